//! Recording over real sockets: the whole call (mixed/stereo) with pause, and the caller alone
//! with terminator key and silence timeout.

use std::sync::Arc;
use std::time::Duration;

use courtyard_media::codec::Codec;
use courtyard_media::{PlayOptions, RecordCallerOptions, RecordEnd, RecordMode, tone};

use crate::peer::{Peer, session};

/// Share of the energy at `freq`, over the 20 ms chunks that are not silent.
fn goertzel_share(pcm: &[i16], freq: f64) -> f64 {
    let pcm: Vec<i16> = pcm
        .chunks(160)
        .filter(|c| c.iter().map(|&x| (x as f64).powi(2)).sum::<f64>() / (c.len() as f64) > 1.0e4)
        .flatten()
        .copied()
        .collect();
    let c = 2.0 * (2.0 * std::f64::consts::PI * freq / 8000.0).cos();
    let (mut s1, mut s2) = (0.0, 0.0);
    for &x in &pcm {
        let s0 = x as f64 + c * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    let e: f64 = pcm.iter().map(|&x| (x as f64).powi(2)).sum();
    if e == 0.0 {
        return 0.0;
    }
    (s1 * s1 + s2 * s2 - c * s1 * s2) / (e * pcm.len() as f64 / 2.0)
}

#[tokio::test]
async fn stereo_recording_has_caller_left_prompt_right_and_pause_leaves_a_gap_out() {
    let dir = tempfile::tempdir().unwrap();
    let s = session().await;
    let mut phone = Peer::new().await;
    s.set_remote(phone.addr(), Codec::Pcmu, Some(101));
    let path = dir.path().join("call.wav");
    s.record_start(&path, RecordMode::Stereo).await.unwrap();
    let prompt: Arc<[i16]> = tone::sine(1000.0, 400, 8000).into();
    let to = s.local_addr();
    let caller = tokio::spawn(async move {
        phone.stream(to, Codec::Pcmu, &tone::sine(500.0, 400, 8000)).await;
        phone
    });
    s.play(prompt.clone(), PlayOptions::default()).await.unwrap();
    let _phone = caller.await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    s.record_pause();
    tokio::time::sleep(Duration::from_millis(200)).await;
    s.record_resume();
    tokio::time::sleep(Duration::from_millis(40)).await;
    let info = s.record_stop().await.unwrap().expect("a recording was running");
    assert_eq!(info.paths, vec![path.clone()]);
    let mut r = hound::WavReader::open(&path).unwrap();
    let spec = r.spec();
    assert_eq!((spec.channels, spec.sample_rate, spec.bits_per_sample), (2, 8000, 16));
    let samples: Vec<i16> = r.samples::<i16>().map(|s| s.unwrap()).collect();
    let frames = samples.len() / 2;
    assert_eq!(Duration::from_millis(frames as u64 / 8), info.duration, "duration matches the file");
    // Everything heard/sent is in the file, the 200 ms pause is not: ≥ 400 ms of audio, and
    // fewer frames than the wall time the recording was open.
    assert!(info.duration >= Duration::from_millis(400), "{:?}", info.duration);
    let left: Vec<i16> = samples.iter().step_by(2).copied().collect();
    let right: Vec<i16> = samples.iter().skip(1).step_by(2).copied().collect();
    assert!(goertzel_share(&left, 500.0) > 0.5, "caller's 500 Hz on the left");
    assert!(goertzel_share(&right, 1000.0) > 0.5, "prompt's 1 kHz on the right");
    assert!(goertzel_share(&left, 1000.0) < 0.05 && goertzel_share(&right, 500.0) < 0.05, "legs are separate");
    assert_eq!(s.record_stop().await.unwrap(), None);
    s.close().await;
}

#[tokio::test]
async fn mixed_recording_is_finalised_when_the_call_closes() {
    let dir = tempfile::tempdir().unwrap();
    let s = session().await;
    let phone = Peer::new().await;
    s.set_remote(phone.addr(), Codec::Pcma, None);
    let path = dir.path().join("mixed.wav");
    s.record_start(&path, RecordMode::Mixed).await.unwrap();
    s.play(tone::sine(700.0, 200, 8000).into(), PlayOptions::default()).await.unwrap();
    s.close().await;
    let r = hound::WavReader::open(&path).expect("valid WAV after close");
    assert_eq!(r.spec().channels, 1);
    assert!(r.len() >= 200 * 8, "{} samples", r.len());
    assert!(s.record_start(dir.path().join("x.wav"), RecordMode::Mixed).await.is_err());
}

#[tokio::test]
async fn caller_recording_ends_on_terminator_key_and_on_silence() {
    let dir = tempfile::tempdir().unwrap();
    let s = session().await;
    let mut phone = Peer::new().await;
    s.set_remote(phone.addr(), Codec::Pcmu, Some(101));
    let to = s.local_addr();
    let opts = RecordCallerOptions { max: Duration::from_secs(20), silence_timeout: Some(Duration::from_secs(5)), terminator: Some('#') };
    let rec = tokio::spawn({
        let s = s.clone();
        let p = dir.path().join("vm.wav");
        async move { s.record_caller(p, opts).await }
    });
    tokio::time::sleep(Duration::from_millis(40)).await;
    phone.stream(to, Codec::Pcmu, &tone::sine(600.0, 300, 8000)).await;
    phone.press(to, 101, 11, 10).await;
    let r = tokio::time::timeout(Duration::from_secs(5), rec).await.unwrap().unwrap().unwrap();
    assert_eq!(r.ended_by, RecordEnd::Terminator('#'));
    let wav = hound::WavReader::open(&r.path).unwrap();
    assert_eq!(wav.len() as u64, r.duration.as_millis() as u64 * 8);
    assert!(r.duration >= Duration::from_millis(300), "{:?}", r.duration);

    // Nobody speaks: ends on silence, and the trailing silence is trimmed away.
    let opts = RecordCallerOptions { max: Duration::from_secs(20), silence_timeout: Some(Duration::from_millis(300)), terminator: None };
    let r = s.record_caller(dir.path().join("empty.wav"), opts).await.unwrap();
    assert_eq!(r.ended_by, RecordEnd::Silence);
    assert_eq!(r.duration, Duration::ZERO);

    // Max length caps it.
    let opts = RecordCallerOptions { max: Duration::from_millis(200), silence_timeout: None, terminator: None };
    let r = s.record_caller(dir.path().join("cap.wav"), opts).await.unwrap();
    assert_eq!((r.ended_by, r.duration), (RecordEnd::MaxLength, Duration::from_millis(200)));
    s.close().await;
}

/// An IVR leg with RFC 4733 digits has no use for the caller's audio, so it is not decoded; the
/// jitter buffer is drained all the same. Losses before anyone listened are still concealed and
/// counted, and a recording started mid-call hears the caller from then on.
#[tokio::test]
async fn caller_audio_nobody_listens_to_is_drained_and_a_recording_started_later_hears_it() {
    let dir = tempfile::tempdir().unwrap();
    let s = session().await;
    let mut phone = Peer::new().await;
    s.set_remote(phone.addr(), Codec::Pcmu, Some(101));
    let to = s.local_addr();
    let caller = tokio::spawn(async move {
        phone.stream(to, Codec::Pcmu, &tone::sine(500.0, 300, 8000)).await;
        // Three packets lost on the way.
        phone.seq = phone.seq.wrapping_add(3);
        phone.ts = phone.ts.wrapping_add(3 * 160);
        phone.stream(to, Codec::Pcmu, &tone::sine(500.0, 900, 8000)).await;
    });
    tokio::time::sleep(Duration::from_millis(600)).await;
    let concealed_before = s.stats().concealed_frames;
    assert!(concealed_before >= 3, "the lost packets are concealed with nobody listening: {:?}", s.stats());
    let path = dir.path().join("late.wav");
    s.record_start(&path, RecordMode::Stereo).await.unwrap();
    caller.await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let info = s.record_stop().await.unwrap().expect("recording");
    let mut r = hound::WavReader::open(&path).unwrap();
    let samples: Vec<i16> = r.samples::<i16>().map(|s| s.unwrap()).collect();
    let left: Vec<i16> = samples.iter().step_by(2).copied().collect();
    assert!(info.duration >= Duration::from_millis(300), "{:?}", info.duration);
    assert!(goertzel_share(&left, 500.0) > 0.5, "the caller's 500 Hz is in the late recording");
    let st = s.stats();
    assert!(st.packets_received >= 55, "{st:?}");
    assert!(st.concealed_frames < concealed_before + 3, "no new losses after the gap: {st:?}");
    s.close().await;
}
