//! Time and working-hours calendars (the host's clock; the simulator fixes it per script).

use crate::bindings::inbound::courtyard::flow::clock as raw;

/// Now, ISO-8601 date-time in the call center's time zone.
pub fn now() -> String {
    raw::now()
}

/// Today's date (`YYYY-MM-DD`), the date part of [`now`].
pub fn today() -> String {
    date_part(&raw::now()).to_string()
}

/// Whether the named calendar is open now (`"default"` is the call center's own).
pub fn is_open(calendar: &str) -> bool {
    raw::is_open(calendar)
}

/// Next opening time of the calendar, ISO-8601 date-time.
pub fn next_open(calendar: &str) -> String {
    raw::next_open(calendar)
}

/// The `YYYY-MM-DD` part of an ISO date or date-time (the whole string when shorter).
pub fn date_part(iso: &str) -> &str {
    iso.get(..10).unwrap_or(iso)
}

#[cfg(test)]
mod tests {
    #[test]
    fn date_part_cuts_datetime() {
        assert_eq!(super::date_part("2026-11-27T10:00:00+08:00"), "2026-11-27");
        assert_eq!(super::date_part("2026"), "2026");
    }
}
