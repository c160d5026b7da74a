//! Barge-in: a key press stops a prompt that allows it and is reported; prompts without barge-in
//! play on.

use std::sync::Arc;
use std::time::Duration;

use courtyard_media::codec::Codec;
use courtyard_media::{DtmfSource, PlayOptions, PlayOutcome, tone};

use crate::peer::{Peer, session};

#[tokio::test]
async fn rfc4733_key_press_barges_into_a_prompt() {
    let s = session().await;
    let mut phone = Peer::new().await;
    s.set_remote(phone.addr(), Codec::Pcmu, Some(101));
    let prompt: Arc<[i16]> = tone::sine(440.0, 10_000, 8000).into();
    let mut digits = s.digits();
    let play = tokio::spawn({
        let s = s.clone();
        async move { s.play(prompt, PlayOptions { barge_in: true }).await }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    phone.press(s.local_addr(), 101, 3, 10).await;
    let out = tokio::time::timeout(Duration::from_secs(5), play).await.expect("barge-in must end the prompt").unwrap().unwrap();
    match out {
        PlayOutcome::Interrupted(d) => assert_eq!((d.digit, d.source), ('3', DtmfSource::Rfc4733)),
        other => panic!("expected barge-in, got {other:?}"),
    }
    // The digit is also on the digit stream, for the flow's collect.
    assert_eq!(digits.recv().await.map(|d| d.digit), Some('3'));
    // After barge-in the session sends silence, not the rest of the prompt.
    tokio::time::sleep(Duration::from_millis(60)).await;
    phone.drain();
    let pk = phone.collect(5, Duration::from_secs(2)).await;
    assert!(pk.iter().all(|p| p.payload.iter().all(|&b| b == 0xFF)));
    s.close().await;
}

#[tokio::test]
async fn injected_key_barges_in_but_not_into_a_prompt_without_barge_in() {
    let s = session().await;
    let phone = Peer::new().await;
    s.set_remote(phone.addr(), Codec::Pcma, Some(101));
    let prompt: Arc<[i16]> = tone::sine(440.0, 300, 8000).into();
    let p = tokio::spawn({
        let s = s.clone();
        let prompt = prompt.clone();
        async move { s.play(prompt, PlayOptions { barge_in: false }).await }
    });
    tokio::time::sleep(Duration::from_millis(60)).await;
    s.inject_dtmf('1').unwrap();
    assert_eq!(p.await.unwrap().unwrap(), PlayOutcome::Completed);

    let long: Arc<[i16]> = tone::sine(440.0, 10_000, 8000).into();
    let p = tokio::spawn({
        let s = s.clone();
        async move { s.play(long, PlayOptions { barge_in: true }).await }
    });
    tokio::time::sleep(Duration::from_millis(60)).await;
    s.inject_dtmf('#').unwrap();
    let out = tokio::time::timeout(Duration::from_secs(5), p).await.unwrap().unwrap().unwrap();
    assert!(matches!(out, PlayOutcome::Interrupted(d) if d.digit == '#' && d.source == DtmfSource::Injected), "{out:?}");
    s.close().await;
}
