//! IVR digit collection through a DigitBuffer: barge-in keeps the key, type-ahead, max digits,
//! terminator, timeouts, hang-up.

use std::sync::Arc;
use std::time::Duration;

use courtyard_media::codec::Codec;
use courtyard_media::collect::{CollectEnd, CollectSpec, DigitBuffer};
use courtyard_media::{PlayOutcome, tone};

use crate::peer::{Peer, session};

fn spec(max: usize, term: Option<char>) -> CollectSpec {
    CollectSpec { max_digits: max, first_digit_timeout: Duration::from_secs(5), inter_digit_timeout: Duration::from_secs(5), terminator: term }
}

#[tokio::test]
async fn barge_in_key_counts_as_first_digit_and_terminator_ends_input() {
    let s = session().await;
    let mut phone = Peer::new().await;
    s.set_remote(phone.addr(), Codec::Pcmu, Some(101));
    let mut buf = DigitBuffer::new(&s);
    let prompt: Arc<[i16]> = tone::sine(440.0, 10_000, 8000).into();
    let to = s.local_addr();
    let keys = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        for k in [1u8, 2, 3, 11] {
            phone.press(to, 101, k, 10).await;
        }
    });
    let got = buf.prompt_and_collect(prompt, true, spec(10, Some('#'))).await.unwrap();
    keys.await.unwrap();
    assert_eq!(got.digits, "123");
    assert_eq!(got.ended_by, CollectEnd::Terminator);
    s.close().await;
}

#[tokio::test]
async fn type_ahead_max_digits_timeouts_and_hangup() {
    let s = session().await;
    let mut buf = DigitBuffer::new(&s);
    // Keys pressed before the prompt: a barge-in prompt does not even start.
    for k in "4567".chars() {
        s.inject_dtmf(k).unwrap();
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    let out = buf.play(tone::sine(440.0, 10_000, 8000).into(), true).await.unwrap();
    assert!(matches!(out, PlayOutcome::Interrupted(d) if d.digit == '4'));
    let got = buf.collect(spec(2, None)).await;
    assert_eq!((got.digits.as_str(), got.ended_by), ("45", CollectEnd::MaxDigits));
    let short = CollectSpec { first_digit_timeout: Duration::from_millis(100), inter_digit_timeout: Duration::from_millis(100), ..spec(5, None) };
    let got = buf.collect(short).await;
    assert_eq!((got.digits.as_str(), got.ended_by), ("67", CollectEnd::Timeout));
    let got = buf.collect(short).await;
    assert_eq!((got.digits.as_str(), got.ended_by), ("", CollectEnd::Timeout));
    s.inject_dtmf('9').unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(buf.pending(), 1);
    buf.clear();
    assert_eq!(buf.pending(), 0);
    // Hang-up during collection.
    let s2 = s.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        s2.close().await;
    });
    let got = buf.collect(spec(3, None)).await;
    assert_eq!(got.ended_by, CollectEnd::Closed);
    assert!(buf.prompt_and_collect(tone::beep().into(), false, spec(1, None)).await.is_err());
}
