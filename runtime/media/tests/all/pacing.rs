//! Sending: 20 ms frames with continuous sequence numbers and timestamps, marker on talk-spurt
//! start, comfort silence between prompts (or nothing, when configured).

use std::sync::Arc;
use std::time::Duration;

use courtyard_media::codec::Codec;
use courtyard_media::{IdleAudio, MediaConfig, PlayOptions, PlayOutcome, tone};

use crate::peer::{Peer, decode, session};

fn assert_continuous(pkts: &[crate::peer::Pkt]) {
    for w in pkts.windows(2) {
        assert_eq!(w[1].seq, w[0].seq.wrapping_add(1), "sequence gap");
        assert_eq!(w[1].ssrc, w[0].ssrc, "SSRC must not change");
    }
}

#[tokio::test]
async fn prompt_frames_are_paced_with_continuous_seq_and_timestamps() {
    let s = session().await;
    let peer = Peer::new().await;
    s.set_remote(peer.addr(), Codec::Pcma, Some(101));
    let pcm: Arc<[i16]> = tone::sine(440.0, 500, 8000).into();
    // A few idle frames first, then the prompt, then idle again.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let out = s.play(pcm.clone(), PlayOptions::default()).await.unwrap();
    assert_eq!(out, PlayOutcome::Completed);
    tokio::time::sleep(Duration::from_millis(100)).await;
    s.close().await;
    let all = peer.collect(10_000, Duration::from_millis(300)).await;
    assert!(all.len() > 25 + 3, "got {} packets", all.len());
    assert_continuous(&all);
    assert!(all.iter().all(|p| p.pt == 8 && p.payload.len() == 160));
    assert!(all[0].marker, "first packet of the stream has the marker");
    for w in all.windows(2) {
        assert_eq!(w[1].ts.wrapping_sub(w[0].ts), 160, "timestamp advances one frame per packet");
    }
    // The prompt starts where the marker is set (the only other marker), and the next 25 frames
    // decode to exactly the encoded prompt.
    let start = all.iter().skip(1).position(|p| p.marker).map(|i| i + 1).expect("marker at prompt start");
    let mut expect = Vec::new();
    Codec::Pcma.encode(&pcm, &mut expect);
    let got: Vec<u8> = all[start..start + 25].iter().flat_map(|p| p.payload.clone()).collect();
    assert_eq!(got, expect);
    // Before and after: comfort silence.
    assert!(all[..start].iter().all(|p| p.payload.iter().all(|&b| b == 0xD5)));
    assert!(all[start + 25..].iter().all(|p| p.payload.iter().all(|&b| b == 0xD5)));
}

#[tokio::test]
async fn idle_nothing_sends_only_prompts_and_timestamps_follow_the_clock() {
    let cfg = MediaConfig { idle: IdleAudio::Nothing, ..MediaConfig::default() };
    let s = crate::peer::open(cfg);
    let peer = Peer::new().await;
    s.set_remote(peer.addr(), Codec::Pcmu, None);
    let pcm: Arc<[i16]> = tone::sine(1000.0, 100, 8000).into();
    s.play(pcm.clone(), PlayOptions::default()).await.unwrap();
    let first = peer.collect(5, Duration::from_secs(2)).await;
    assert_eq!(first.len(), 5);
    assert!(peer.collect(1, Duration::from_millis(200)).await.is_empty(), "nothing between prompts");
    s.play(pcm, PlayOptions::default()).await.unwrap();
    let second = peer.collect(5, Duration::from_secs(2)).await;
    assert_eq!(second.len(), 5);
    let all: Vec<_> = first.iter().chain(&second).cloned().collect();
    assert_continuous(&all);
    assert!(second[0].marker && first[0].marker && !first[1].marker && !second[1].marker);
    // The gap is reflected in the timestamp (the clock kept running): at least the 200 ms waited
    // (ten frames; the second prompt starts at the first tick that sees its command, which may be
    // the tick that ends the wait).
    let gap = second[0].ts.wrapping_sub(first[4].ts);
    assert!(gap >= 10 * 160 && gap % 160 == 0, "timestamp gap {gap}");
    assert_eq!(decode(&second, Codec::Pcmu).len(), 800);
    s.close().await;
}

#[tokio::test]
async fn a_new_prompt_replaces_the_current_one_and_a_dropped_play_stops_sending() {
    let s = session().await;
    let peer = Peer::new().await;
    s.set_remote(peer.addr(), Codec::Pcmu, None);
    let long: Arc<[i16]> = tone::sine(500.0, 5000, 8000).into();
    let s2 = s.clone();
    let first = tokio::spawn({
        let long = long.clone();
        async move { s2.play(long, PlayOptions::default()).await }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let short: Arc<[i16]> = tone::sine(700.0, 60, 8000).into();
    assert_eq!(s.play(short, PlayOptions::default()).await.unwrap(), PlayOutcome::Completed);
    assert_eq!(first.await.unwrap().unwrap(), PlayOutcome::Stopped);
    // Dropping the future (timeout) stops the prompt: only silence follows.
    let _ = tokio::time::timeout(Duration::from_millis(100), s.play(long, PlayOptions::default())).await;
    tokio::time::sleep(Duration::from_millis(60)).await;
    peer.drain();
    let after = peer.collect(10, Duration::from_secs(2)).await;
    assert_eq!(after.len(), 10);
    assert!(after.iter().all(|p| p.payload.iter().all(|&b| b == 0xFF)), "silence after the play future was dropped");
    s.close().await;
    assert!(s.play(tone::beep().into(), PlayOptions::default()).await.is_err(), "closed session refuses play");
}

#[tokio::test]
async fn hold_stops_sending_and_resume_continues_the_sequence() {
    let s = session().await;
    let peer = Peer::new().await;
    s.set_remote(peer.addr(), Codec::Pcmu, None);
    let before = peer.collect(3, Duration::from_secs(2)).await;
    assert_eq!(before.len(), 3);
    s.set_sending(false);
    tokio::time::sleep(Duration::from_millis(60)).await;
    peer.drain();
    assert!(peer.collect(1, Duration::from_millis(200)).await.is_empty(), "nothing sent on hold");
    s.set_sending(true);
    let after = peer.collect(2, Duration::from_secs(2)).await;
    assert_eq!(after.len(), 2);
    assert!(after[0].marker, "resuming starts a talk spurt");
    assert_eq!(after[0].ssrc, before[0].ssrc);
    assert!(after[0].ts.wrapping_sub(before[2].ts) >= 160 * 10, "timestamp kept running on hold");
    s.close().await;
}
