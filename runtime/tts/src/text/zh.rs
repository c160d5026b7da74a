//! Mandarin reading of numbers, money, digit strings, dates and times.
//!
//! Rules (these are what callers hear; see `docs/tts.md`):
//! - Quantities group by 万 (10⁴) and 亿 (10⁸); a run of zeros inside a number is read as one
//!   零 (1502 → 一千五百零二, 10010 → 一万零一十, 100000 → 十万, 100000001 → 一亿零一).
//! - 一十 is shortened to 十 only at the very start of a number (15 → 十五, 110 → 一百一十).
//! - 2 before 千, 万 and 亿 is read 两 (2000 → 两千, 20000 → 两万, 12000 → 一万两千), as spoken
//!   Mandarin does; elsewhere it is 二 (2 → 二, 200 → 二百, 22 → 二十二).
//! - Money in fen: 元/角/分, a missing 角 between 元 and 分 is read 零 (32050 → 三百二十元五角,
//!   32005 → 三百二十元零五分); no 整 is appended (整 belongs to written 大写 amounts on
//!   invoices, not to speech); a lone 2 before 元/角 is 两 (200 → 两元, 22 → 两角二分).
//! - Digit strings: one digit at a time, 1 as 幺 (the telephone convention that keeps 一 and 七
//!   apart), 0 as 零.
//! - Dates: the year digit by digit, month and day as quantities: 二零二六年十一月二十七日.

const DIGITS: [&str; 10] = ["零", "一", "二", "三", "四", "五", "六", "七", "八", "九"];
const WAN: u64 = 10_000;
const YI: u64 = 100_000_000;

/// Reads a signed quantity (negative numbers are prefixed with 负).
pub fn number(n: i64) -> String {
    let mut out = String::new();
    if n < 0 {
        out.push('负');
    }
    push_number(&mut out, n.unsigned_abs(), false);
    out
}

/// Appends the reading of `n`; `before_measure` reads a lone 2 as 两 (两元, 两点).
fn push_number(out: &mut String, n: u64, before_measure: bool) {
    if n == 0 {
        out.push('零');
    } else {
        push_scaled(out, n, true, before_measure);
    }
}

/// Reads `n > 0`. `leading` is true only for the first group of the whole number (一十 → 十);
/// `before_unit` is true when 万/亿 or a measure word follows (a lone 2 becomes 两).
fn push_scaled(out: &mut String, n: u64, leading: bool, before_unit: bool) {
    if n >= YI {
        push_scaled(out, n / YI, leading, true);
        out.push('亿');
        push_rest(out, n % YI, YI);
    } else if n >= WAN {
        push_scaled(out, n / WAN, leading, true);
        out.push('万');
        push_rest(out, n % WAN, WAN);
    } else {
        push_group(out, n, leading, before_unit);
    }
}

/// Reads the part below a 万/亿 unit, with 零 when its highest place is empty.
fn push_rest(out: &mut String, rem: u64, unit: u64) {
    if rem == 0 {
        return;
    }
    if rem < unit / 10 {
        out.push('零');
    }
    push_scaled(out, rem, false, false);
}

/// Reads a group 1..=9999 with 千/百/十 and single 零 for inner zero runs.
fn push_group(out: &mut String, n: u64, leading: bool, before_unit: bool) {
    debug_assert!(n > 0 && n < WAN);
    if n == 2 && before_unit {
        out.push('两');
        return;
    }
    let digits = [n / 1000, n / 100 % 10, n / 10 % 10, n % 10];
    let units = ["千", "百", "十", ""];
    let mut started = false;
    let mut pending_zero = false;
    for (place, &d) in digits.iter().enumerate() {
        if d == 0 {
            pending_zero |= started;
            continue;
        }
        if pending_zero {
            out.push('零');
            pending_zero = false;
        }
        if place == 2 && d == 1 && !started && leading {
            out.push('十');
        } else {
            out.push_str(if place == 0 && d == 2 {
                "两"
            } else {
                DIGITS[d as usize]
            });
            out.push_str(units[place]);
        }
        started = true;
    }
}

/// Reads an amount of money given in fen (分) as 元/角/分.
pub fn money(fen: i64) -> String {
    let mut out = String::new();
    if fen < 0 {
        out.push('负');
    }
    let abs = fen.unsigned_abs();
    let (yuan, jiao, fen) = (abs / 100, abs / 10 % 10, abs % 10);
    if yuan > 0 {
        push_number(&mut out, yuan, true);
        out.push('元');
    }
    if jiao > 0 {
        push_number(&mut out, jiao, true);
        out.push('角');
    }
    if fen > 0 {
        if yuan > 0 && jiao == 0 {
            out.push('零');
        }
        // 两 only when 分 is the whole amount (两分); after 元/角 it is 二 (两角二分).
        push_number(&mut out, fen, abs == 2);
        out.push('分');
    }
    if abs == 0 {
        out.push_str("零元");
    }
    out
}

/// Reads one ASCII digit the telephone way (1 → 幺).
pub fn digit(d: u8) -> &'static str {
    match d {
        1 => "幺",
        d => DIGITS[usize::from(d % 10)],
    }
}

/// Reads a year digit by digit (2026 → 二零二六), as dates are spoken.
pub fn year(y: u32) -> String {
    y.to_string()
        .bytes()
        .map(|b| DIGITS[usize::from(b - b'0')])
        .collect()
}

/// Reads a calendar date.
pub fn date(y: u32, m: u32, d: Option<u32>) -> String {
    let mut out = year(y);
    out.push('年');
    push_number(&mut out, u64::from(m), false);
    out.push('月');
    if let Some(d) = d {
        push_number(&mut out, u64::from(d), false);
        out.push('日');
    }
    out
}

/// Reads a clock time: 14:30 → 十四点三十分, 9:05 → 九点零五分, 14:00 → 十四点整, 2:00 → 两点整.
pub fn time(h: u32, m: u32) -> String {
    let mut out = String::new();
    push_number(&mut out, u64::from(h), true);
    out.push('点');
    match m {
        0 => out.push('整'),
        1..=9 => {
            out.push('零');
            out.push_str(DIGITS[m as usize]);
            out.push('分');
        }
        _ => {
            push_number(&mut out, u64::from(m), false);
            out.push('分');
        }
    }
    out
}

/// Reads a decimal fraction's digits one by one (3.14 → 三点一四).
pub fn fraction_digits(digits: &str) -> String {
    digits
        .bytes()
        .filter(u8::is_ascii_digit)
        .map(|b| DIGITS[usize::from(b - b'0')])
        .collect()
}

#[cfg(test)]
#[rustfmt::skip]
mod tests {
    use super::*;

    #[test]
    fn small_numbers() {
        let expect = [
            (0, "零"), (1, "一"), (2, "二"), (3, "三"), (9, "九"),
            (10, "十"), (11, "十一"), (12, "十二"), (19, "十九"), (20, "二十"), (21, "二十一"),
            (22, "二十二"), (99, "九十九"),
        ];
        for (n, s) in expect {
            assert_eq!(number(n), s, "{n}");
        }
    }

    #[test]
    fn hundreds_and_thousands_with_inner_zeros() {
        let expect = [
            (100, "一百"), (101, "一百零一"), (110, "一百一十"), (111, "一百一十一"),
            (119, "一百一十九"), (200, "二百"), (202, "二百零二"), (220, "二百二十"),
            (320, "三百二十"), (999, "九百九十九"),
            (1000, "一千"), (1001, "一千零一"), (1010, "一千零一十"), (1011, "一千零一十一"),
            (1100, "一千一百"), (1101, "一千一百零一"), (1110, "一千一百一十"),
            (1502, "一千五百零二"), (1520, "一千五百二十"), (2000, "两千"), (2002, "两千零二"),
            (2222, "两千二百二十二"), (9009, "九千零九"), (9090, "九千零九十"), (9999, "九千九百九十九"),
        ];
        for (n, s) in expect {
            assert_eq!(number(n), s, "{n}");
        }
    }

    #[test]
    fn wan_grouping() {
        let expect = [
            (10_000, "一万"), (10_001, "一万零一"), (10_010, "一万零一十"), (10_100, "一万零一百"),
            (11_000, "一万一千"), (10_011, "一万零一十一"), (12_000, "一万两千"),
            (20_000, "两万"), (22_000, "两万两千"), (100_000, "十万"), (100_010, "十万零一十"),
            (110_000, "十一万"), (150_000, "十五万"), (200_000, "二十万"), (220_000, "二十二万"),
            (1_000_000, "一百万"), (1_010_000, "一百零一万"), (1_100_000, "一百一十万"),
            (1_000_100, "一百万零一百"), (1_001_000, "一百万一千"), (10_000_000, "一千万"),
            (20_000_000, "两千万"), (20_020_000, "两千零二万"), (99_999_999, "九千九百九十九万九千九百九十九"),
            (12_345_678, "一千二百三十四万五千六百七十八"),
        ];
        for (n, s) in expect {
            assert_eq!(number(n), s, "{n}");
        }
    }

    #[test]
    fn yi_grouping() {
        let expect = [
            (100_000_000, "一亿"), (100_000_001, "一亿零一"), (100_000_010, "一亿零一十"),
            (100_010_000, "一亿零一万"), (100_100_000, "一亿零一十万"),
            (101_000_000, "一亿零一百万"), (110_000_000, "一亿一千万"),
            (110_000_001, "一亿一千万零一"), (200_000_000, "两亿"), (220_000_000, "两亿两千万"),
            (1_000_000_000, "十亿"), (1_000_010_000, "十亿零一万"), (1_200_000_000, "十二亿"),
            (1_000_000_000_000, "一万亿"), (1_000_000_000_001, "一万亿零一"),
            (10_000_000_000_000_000, "一亿亿"),
        ];
        for (n, s) in expect {
            assert_eq!(number(n), s, "{n}");
        }
    }

    #[test]
    fn extremes_and_negatives() {
        assert_eq!(number(-1), "负一");
        assert_eq!(number(-10), "负十");
        assert_eq!(number(-1502), "负一千五百零二");
        assert_eq!(
            number(i64::MAX),
            "九百二十二亿三千三百七十二万零三百六十八亿五千四百七十七万五千八百零七"
        );
        assert_eq!(
            number(i64::MIN),
            "负九百二十二亿三千三百七十二万零三百六十八亿五千四百七十七万五千八百零八"
        );
    }

    #[test]
    fn money_forms() {
        let expect = [
            (0, "零元"), (1, "一分"), (2, "两分"), (10, "一角"), (20, "两角"), (22, "两角二分"),
            (50, "五角"), (55, "五角五分"), (100, "一元"), (105, "一元零五分"), (110, "一元一角"),
            (200, "两元"), (205, "两元零五分"), (1000, "十元"), (1200, "十二元"), (2000, "二十元"),
            (32050, "三百二十元五角"), (32005, "三百二十元零五分"), (32055, "三百二十元五角五分"),
            (100_000, "一千元"), (200_000, "两千元"), (1_000_000, "一万元"), (1_000_001, "一万元零一分"),
            (150_000_000, "一百五十万元"), (-32050, "负三百二十元五角"), (-5, "负五分"),
        ];
        for (fen, s) in expect {
            assert_eq!(money(fen), s, "{fen}");
        }
    }

    #[test]
    fn dates_and_times() {
        assert_eq!(date(2026, 11, Some(27)), "二零二六年十一月二十七日");
        assert_eq!(date(2000, 1, Some(1)), "二零零零年一月一日");
        assert_eq!(date(2026, 2, Some(10)), "二零二六年二月十日");
        assert_eq!(date(2026, 12, Some(20)), "二零二六年十二月二十日");
        assert_eq!(date(2026, 10, None), "二零二六年十月");
        assert_eq!(time(14, 30), "十四点三十分");
        assert_eq!(time(9, 5), "九点零五分");
        assert_eq!(time(14, 0), "十四点整");
        assert_eq!(time(2, 0), "两点整");
        assert_eq!(time(0, 10), "零点十分");
        assert_eq!(time(12, 2), "十二点零二分");
    }

    #[test]
    fn telephone_digits() {
        let read: String = [1u8, 0, 1, 7, 2].iter().map(|&d| digit(d)).collect();
        assert_eq!(read, "幺零幺七二");
    }
}

/// Independent check: parse every reading back to a number and check the spoken-form rules.
#[cfg(test)]
mod roundtrip {
    use super::number;

    /// A plain Chinese-numeral parser (not sharing code with the reader above).
    fn parse(s: &str) -> u64 {
        let (mut total, mut section, mut current) = (0u64, 0u64, 0u64);
        for c in s.chars() {
            match c {
                '零' => {}
                '一' => current = 1,
                '二' | '两' => current = 2,
                '三' => current = 3,
                '四' => current = 4,
                '五' => current = 5,
                '六' => current = 6,
                '七' => current = 7,
                '八' => current = 8,
                '九' => current = 9,
                '十' | '百' | '千' => {
                    let m = match c {
                        '十' => 10,
                        '百' => 100,
                        _ => 1000,
                    };
                    section += current.max(if c == '十' { 1 } else { 0 }) * m;
                    current = 0;
                }
                '万' => {
                    section = (section + current) * 10_000;
                    current = 0;
                }
                '亿' => {
                    total = (total + section + current) * 100_000_000;
                    section = 0;
                    current = 0;
                }
                other => panic!("unexpected {other} in {s}"),
            }
        }
        total + section + current
    }

    fn check(n: u64) {
        let s = number(n as i64);
        assert_eq!(parse(&s), n, "{n} read as {s}");
        if n != 0 {
            assert!(!s.contains("零零") && !s.ends_with('零'), "{n} read as {s}");
            assert!(
                !s.contains("零万") && !s.contains("零亿") && !s.contains("万亿零万"),
                "{n} read as {s}"
            );
        }
        // 一十 only after 零 or a higher unit, never at the start; 十 alone only at the start.
        assert!(!s.starts_with("一十"), "{n} read as {s}");
        for (i, _) in s.match_indices('十') {
            let before = s[..i].chars().last();
            assert!(
                before.is_none() || before.is_some_and(|c| "一二三四五六七八九".contains(c)),
                "{n} read as {s}"
            );
        }
        // 两 only before 千/万/亿.
        for (i, _) in s.match_indices('两') {
            let after = s[i + '两'.len_utf8()..].chars().next();
            assert!(
                after.is_some_and(|c| "千万亿".contains(c)),
                "{n} read as {s}"
            );
        }
    }

    #[test]
    fn every_number_below_two_hundred_thousand() {
        for n in 0..200_000 {
            check(n);
        }
    }

    #[test]
    fn sparse_digit_patterns_up_to_a_trillion() {
        // All 13-digit patterns over {0, 1, 2, 9} with at most 4 non-zero places exercise every
        // zero run across 万 and 亿 boundaries.
        let choices = [0u64, 1, 2, 9];
        let mut stack = vec![(0u64, 0u32, 0u32)];
        while let Some((n, len, nonzero)) = stack.pop() {
            if len == 13 {
                check(n);
                continue;
            }
            for &d in &choices {
                if d != 0 && nonzero == 4 {
                    continue;
                }
                stack.push((n * 10 + d, len + 1, nonzero + u32::from(d != 0)));
            }
        }
    }
}
