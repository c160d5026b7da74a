//! Erlang C staffing: how many agents a target service level needs for an hour's traffic.
//!
//! Traffic A (Erlangs) = calls per hour × AHT (s) ÷ 3600. With N > A agents the probability that
//! a caller waits is Erlang C, computed here through the numerically stable Erlang B recursion
//! (B₀ = 1, Bₙ = A·Bₙ₋₁ ÷ (n + A·Bₙ₋₁); C = N·B ÷ (N − A·(1 − B))), and the service level is
//! SL = 1 − C · e^(−(N − A)·T ÷ AHT). These are the formulas the staffing page shows.

/// Offered traffic in Erlangs.
pub fn traffic_erlangs(calls_per_hour: f64, aht_s: f64) -> f64 {
    calls_per_hour * aht_s / 3600.0
}

/// Probability that a call has to wait (Erlang C) with `agents` agents and `a` Erlangs.
/// 1.0 when the agents cannot keep up (N ≤ A).
pub fn probability_wait(agents: u32, a: f64) -> f64 {
    if a <= 0.0 {
        return 0.0;
    }
    let n = agents as f64;
    if n <= a {
        return 1.0;
    }
    let mut b = 1.0;
    for k in 1..=agents {
        b = a * b / (k as f64 + a * b);
    }
    n * b / (n - a * (1.0 - b))
}

/// Fraction of calls answered within `threshold_s` seconds.
pub fn service_level(agents: u32, a: f64, aht_s: f64, threshold_s: f64) -> f64 {
    let n = agents as f64;
    if a <= 0.0 {
        return 1.0;
    }
    if n <= a {
        return 0.0;
    }
    1.0 - probability_wait(agents, a) * (-(n - a) * threshold_s / aht_s).exp()
}

/// Average speed of answer in seconds: C · AHT ÷ (N − A).
pub fn average_speed_of_answer(agents: u32, a: f64, aht_s: f64) -> f64 {
    let n = agents as f64;
    if n <= a {
        return f64::INFINITY;
    }
    probability_wait(agents, a) * aht_s / (n - a)
}

/// Smallest number of agents whose service level reaches `target_sl` (0..1) within `threshold_s`.
pub fn agents_needed(calls_per_hour: f64, aht_s: f64, target_sl: f64, threshold_s: f64) -> u32 {
    let a = traffic_erlangs(calls_per_hour, aht_s);
    if a <= 0.0 || aht_s <= 0.0 {
        return 0;
    }
    let target = target_sl.clamp(0.0, 0.999_999);
    let mut n = a.floor() as u32 + 1;
    while service_level(n, a, aht_s, threshold_s) < target {
        n += 1;
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The textbook example (e.g. callcentrehelper.com's Erlang C walk-through): 100 calls per
    /// 30 minutes, AHT 180 s → 10 Erlangs; Pw(11) = 68.21 %; 80 % in 20 s needs 14 agents
    /// (13 give 79.56 %, 14 give 88.84 %). Cross-checked with the factorial form of Erlang C.
    #[test]
    fn textbook_ten_erlang_example() {
        let a = traffic_erlangs(200.0, 180.0);
        assert!((a - 10.0).abs() < 1e-12);
        assert!((probability_wait(11, a) - 0.6821).abs() < 5e-4, "Pw(11) = {}", probability_wait(11, a));
        assert!((probability_wait(14, a) - 0.1741).abs() < 5e-4, "Pw(14) = {}", probability_wait(14, a));
        let sl13 = service_level(13, a, 180.0, 20.0);
        let sl14 = service_level(14, a, 180.0, 20.0);
        assert!((sl13 - 0.7956).abs() < 1e-3, "SL(13) = {sl13}");
        assert!((sl14 - 0.8884).abs() < 1e-3, "SL(14) = {sl14}");
        assert_eq!(agents_needed(200.0, 180.0, 0.8, 20.0), 14);
        assert!((average_speed_of_answer(14, a, 180.0) - 7.83).abs() < 0.05);
    }

    #[test]
    fn single_agent_matches_the_closed_form() {
        // N = 1: C = A (M/M/1 utilisation), SL = 1 − A·e^(−(1−A)T/AHT).
        let a = 0.5;
        assert!((probability_wait(1, a) - 0.5).abs() < 1e-12);
        let sl = service_level(1, a, 100.0, 50.0);
        assert!((sl - (1.0 - 0.5 * (-0.25f64).exp())).abs() < 1e-12);
        assert_eq!(agents_needed(0.0, 180.0, 0.8, 20.0), 0);
        assert_eq!(probability_wait(10, 10.0), 1.0);
    }
}
