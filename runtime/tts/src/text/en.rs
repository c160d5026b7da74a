//! English reading of numbers, money, digit strings, dates and times, in words so the text
//! shown by the simulator is exactly what espeak-ng's British `en` voice says.
//!
//! Rules: British "and" after hundreds (1502 → one thousand five hundred and two, 1002 → one
//! thousand and two); money as "<n> yuan <m> fen" (32050 → three hundred and twenty yuan fifty
//! fen); digit strings one digit at a time with 0 as "zero"; dates as "November twenty-seventh,
//! twenty twenty-six"; times on a 12-hour clock ("two thirty p m").

#[rustfmt::skip]
const ONES: [&str; 20] = [
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
    "nineteen",
];
#[rustfmt::skip]
const TENS: [&str; 10] = [
    "", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
];
const SCALES: [(u64, &str); 6] = [
    (1_000_000_000_000_000_000, "quintillion"),
    (1_000_000_000_000_000, "quadrillion"),
    (1_000_000_000_000, "trillion"),
    (1_000_000_000, "billion"),
    (1_000_000, "million"),
    (1_000, "thousand"),
];
#[rustfmt::skip]
const MONTHS: [&str; 12] = [
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
];

/// Reads a signed quantity ("minus" for negatives).
pub fn number(n: i64) -> String {
    let words = cardinal(n.unsigned_abs());
    if n < 0 {
        format!("minus {words}")
    } else {
        words
    }
}

/// Reads an unsigned quantity in words.
pub fn cardinal(n: u64) -> String {
    if n == 0 {
        return ONES[0].to_string();
    }
    let mut parts: Vec<String> = Vec::new();
    let mut rest = n;
    for (scale, name) in SCALES {
        if rest >= scale {
            parts.push(format!("{} {name}", below_thousand(rest / scale)));
            rest %= scale;
        }
    }
    if rest > 0 {
        if !parts.is_empty() && rest < 100 {
            parts.push("and".to_string());
        }
        parts.push(below_thousand(rest));
    }
    parts.join(" ")
}

/// Reads 1..=999.
fn below_thousand(n: u64) -> String {
    let (hundreds, rest) = (n / 100, n % 100);
    match (hundreds, rest) {
        (0, r) => below_hundred(r),
        (h, 0) => format!("{} hundred", ONES[h as usize]),
        (h, r) => format!("{} hundred and {}", ONES[h as usize], below_hundred(r)),
    }
}

/// Reads 0..=99 with a hyphen between tens and ones (twenty-one).
fn below_hundred(n: u64) -> String {
    match n {
        0..=19 => ONES[n as usize].to_string(),
        _ if n.is_multiple_of(10) => TENS[(n / 10) as usize].to_string(),
        _ => format!("{}-{}", TENS[(n / 10) as usize], ONES[(n % 10) as usize]),
    }
}

/// Reads an ordinal 1..=31 (days of the month).
pub fn ordinal(n: u32) -> String {
    let special = |w: &str| -> Option<&'static str> {
        Some(match w {
            "one" => "first",
            "two" => "second",
            "three" => "third",
            "five" => "fifth",
            "eight" => "eighth",
            "nine" => "ninth",
            "twelve" => "twelfth",
            _ => return None,
        })
    };
    let words = cardinal(u64::from(n));
    // Only the last word changes: twenty-one → twenty-first, thirty → thirtieth.
    let (head, last) = match words.rfind(['-', ' ']) {
        Some(i) => (&words[..=i], &words[i + 1..]),
        None => ("", words.as_str()),
    };
    let last = match special(last) {
        Some(s) => s.to_string(),
        None if last.ends_with('y') => format!("{}ieth", &last[..last.len() - 1]),
        None => format!("{last}th"),
    };
    format!("{head}{last}")
}

/// Reads money given in fen: yuan and the remaining fen.
pub fn money(fen: i64) -> String {
    let abs = fen.unsigned_abs();
    let (yuan, cents) = (abs / 100, abs % 100);
    let mut out = match (yuan, cents) {
        (0, 0) => "zero yuan".to_string(),
        (y, 0) => format!("{} yuan", cardinal(y)),
        (0, c) => format!("{} fen", cardinal(c)),
        (y, c) => format!("{} yuan {} fen", cardinal(y), cardinal(c)),
    };
    if fen < 0 {
        out.insert_str(0, "minus ");
    }
    out
}

/// Reads one ASCII digit.
pub fn digit(d: u8) -> &'static str {
    ONES[usize::from(d % 10)]
}

/// Reads a year the way English speakers do (twenty twenty-six, two thousand and five).
pub fn year(y: u32) -> String {
    let (hi, lo) = (y / 100, y % 100);
    // Whole thousands and 2000–2009 are read as cardinals; so are years outside 1100–9999.
    if !(1100..10_000).contains(&y) || y.is_multiple_of(1000) || (2001..2010).contains(&y) {
        return cardinal(u64::from(y));
    }
    let hi = below_hundred(u64::from(hi));
    match lo {
        0 => format!("{hi} hundred"),
        1..=9 => format!("{hi} oh {}", ONES[lo as usize]),
        _ => format!("{hi} {}", below_hundred(u64::from(lo))),
    }
}

/// Reads a calendar date: "November twenty-seventh, twenty twenty-six".
pub fn date(y: u32, m: u32, d: Option<u32>) -> String {
    let month = MONTHS[(m.clamp(1, 12) - 1) as usize];
    match d {
        Some(d) => format!("{month} {}, {}", ordinal(d), year(y)),
        None => format!("{month} {}", year(y)),
    }
}

/// Reads a clock time on a 12-hour clock: 14:30 → "two thirty p m", 9:05 → "nine oh five a m".
pub fn time(h: u32, m: u32) -> String {
    let suffix = if h < 12 { "a m" } else { "p m" };
    let h12 = match h % 12 {
        0 => 12,
        h => h,
    };
    let hour = cardinal(u64::from(h12));
    match m {
        0 => format!("{hour} o'clock {suffix}"),
        1..=9 => format!("{hour} oh {} {suffix}", ONES[m as usize]),
        _ => format!("{hour} {} {suffix}", below_hundred(u64::from(m))),
    }
}

/// Reads a decimal fraction's digits one by one (3.14 → three point one four).
pub fn fraction_digits(digits: &str) -> String {
    digits
        .bytes()
        .filter(u8::is_ascii_digit)
        .map(|b| digit(b - b'0'))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
#[rustfmt::skip]
mod tests {
    use super::*;

    #[test]
    fn cardinals() {
        let expect = [
            (0, "zero"), (7, "seven"), (13, "thirteen"), (20, "twenty"), (21, "twenty-one"),
            (99, "ninety-nine"), (100, "one hundred"), (101, "one hundred and one"),
            (320, "three hundred and twenty"), (1000, "one thousand"), (1002, "one thousand and two"),
            (1502, "one thousand five hundred and two"), (10_010, "ten thousand and ten"),
            (100_000, "one hundred thousand"), (1_000_001, "one million and one"),
            (2_500_000, "two million five hundred thousand"),
            (-45, "minus forty-five"),
        ];
        for (n, s) in expect {
            assert_eq!(number(n), s, "{n}");
        }
        assert!(number(i64::MIN).starts_with("minus nine quintillion two hundred and twenty-three quadrillion"));
    }

    #[test]
    fn ordinals() {
        let expect = [
            (1, "first"), (2, "second"), (3, "third"), (4, "fourth"), (5, "fifth"), (8, "eighth"),
            (9, "ninth"), (11, "eleventh"), (12, "twelfth"), (20, "twentieth"), (21, "twenty-first"),
            (22, "twenty-second"), (23, "twenty-third"), (27, "twenty-seventh"), (30, "thirtieth"),
            (31, "thirty-first"),
        ];
        for (n, s) in expect {
            assert_eq!(ordinal(n), s, "{n}");
        }
    }

    #[test]
    fn money_forms() {
        assert_eq!(money(32050), "three hundred and twenty yuan fifty fen");
        assert_eq!(money(100_000), "one thousand yuan");
        assert_eq!(money(5), "five fen");
        assert_eq!(money(0), "zero yuan");
        assert_eq!(money(-101), "minus one yuan one fen");
    }

    #[test]
    fn years_dates_times() {
        assert_eq!(year(2026), "twenty twenty-six");
        assert_eq!(year(2000), "two thousand");
        assert_eq!(year(2005), "two thousand and five");
        assert_eq!(year(1999), "nineteen ninety-nine");
        assert_eq!(year(1900), "nineteen hundred");
        assert_eq!(year(1905), "nineteen oh five");
        assert_eq!(year(2010), "twenty ten");
        assert_eq!(date(2026, 11, Some(27)), "November twenty-seventh, twenty twenty-six");
        assert_eq!(date(2026, 1, None), "January twenty twenty-six");
        assert_eq!(time(14, 30), "two thirty p m");
        assert_eq!(time(9, 5), "nine oh five a m");
        assert_eq!(time(0, 0), "twelve o'clock a m");
        assert_eq!(time(12, 15), "twelve fifteen p m");
    }
}
