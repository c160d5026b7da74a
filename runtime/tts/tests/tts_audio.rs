//! The TTS service against real espeak-ng audio, real WAV files and a real cache directory.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use courtyard_tts::{
    Espeak, EspeakConfig, Lang, Speech, TELEPHONE_RATE, Tts, TtsEngine, load_wav_8k, render_text,
    save_wav_8k,
};

fn tts_in(dir: &Path) -> Tts {
    Tts::espeak(dir).expect("espeak-ng is installed (apt install espeak-ng libespeak-ng-dev)")
}

fn rms(s: &[i16]) -> f64 {
    (s.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>() / s.len().max(1) as f64).sqrt()
}

fn secs(s: &[i16]) -> f64 {
    s.len() as f64 / f64::from(TELEPHONE_RATE)
}

fn text(s: &str) -> Speech {
    Speech::Text(s.to_string())
}

/// Fraction of 20 ms frames that carry speech energy.
fn voiced_fraction(s: &[i16]) -> f64 {
    let frames: Vec<&[i16]> = s.chunks(160).collect();
    frames.iter().filter(|f| rms(f) > 300.0).count() as f64 / frames.len().max(1) as f64
}

#[tokio::test]
async fn mandarin_sentence_is_speech_of_plausible_length() {
    let dir = tempfile::tempdir().unwrap();
    let tts = tts_in(dir.path());
    // 16 syllables; espeak-ng's Mandarin at 175 wpm speaks about 3–6 syllables per second.
    let pcm = tts
        .speak(Lang::Zh, &[text("您好，欢迎致电阳光花园物业服务中心。")])
        .await
        .unwrap();
    let d = secs(&pcm);
    assert!((2.0..=7.0).contains(&d), "duration {d:.2} s");
    assert!(rms(&pcm) > 1_000.0, "rms {}", rms(&pcm));
    assert!(
        voiced_fraction(&pcm) > 0.5,
        "voiced {:.2}",
        voiced_fraction(&pcm)
    );
    // Headroom: scaled before resampling, so nothing sits at full scale.
    let peak = pcm.iter().map(|s| s.unsigned_abs()).max().unwrap();
    assert!(peak < 32_000, "peak {peak}");
}

#[tokio::test]
async fn mandarin_is_read_as_mandarin_not_pinyin_spelled_in_english() {
    let engine = Espeak::new(EspeakConfig::default()).unwrap();
    // The library version is part of the cache identity.
    assert!(engine.id().starts_with("espeak-ng-1."), "{}", engine.id());
    assert_eq!(engine.voice(Lang::Zh), "cmn-latn-pinyin@175wpm");
    let ph = engine
        .phonemes(Lang::Zh, "您好，三百二十元五角")
        .await
        .unwrap();
    // Tone numbers on Mandarin syllables (n'i35n = nín, X'Au214 = hǎo), no switch to English.
    assert!(ph.contains("n'i35n") && ph.contains("X'Au214"), "{ph}");
    assert!(!ph.contains("(en)"), "{ph}");
    // The broken plain `cmn` voice switches to English for the same text: the check can fail.
    let broken = courtyard_tts::espeak::phonemes("cmn", "您好")
        .await
        .unwrap();
    assert!(broken.contains("(en)"), "{broken}");
}

fn cli_wav(dir: &Path, voice: &str, sentence: &str) -> Vec<i16> {
    let wav = dir.join(format!("{voice}.wav"));
    let status = Command::new("espeak-ng")
        .args(["-v", voice, "-w"])
        .arg(&wav)
        .arg(sentence)
        .status();
    let Ok(status) = status else {
        panic!("espeak-ng CLI missing (apt install espeak-ng)")
    };
    assert!(status.success());
    hound::WavReader::open(&wav)
        .unwrap()
        .samples::<i16>()
        .collect::<Result<Vec<_>, _>>()
        .unwrap()
}

/// Per-10 ms RMS envelope, trimmed of trailing silence.
fn envelope(s: &[i16]) -> Vec<f64> {
    let mut env: Vec<f64> = s.chunks(221).map(rms).collect();
    while env.last().is_some_and(|&e| e < 50.0) {
        env.pop();
    }
    env
}

/// Pearson correlation of two envelopes over their common length.
fn correlation(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let (ma, mb) = (
        a.iter().sum::<f64>() / n as f64,
        b.iter().sum::<f64>() / n as f64,
    );
    let cov: f64 = a.iter().zip(b).map(|(x, y)| (x - ma) * (y - mb)).sum();
    let va: f64 = a.iter().map(|x| (x - ma).powi(2)).sum();
    let vb: f64 = b.iter().map(|y| (y - mb).powi(2)).sum();
    cov / (va * vb).sqrt()
}

#[tokio::test]
async fn library_output_matches_the_espeak_cli_for_the_mandarin_voice() {
    let dir = tempfile::tempdir().unwrap();
    let sentence = "请按一号键查询物业费";
    let right = envelope(&cli_wav(dir.path(), "cmn-latn-pinyin", sentence));
    let wrong = envelope(&cli_wav(dir.path(), "cmn", sentence));
    let engine = Espeak::new(EspeakConfig::default()).unwrap();
    let ours = engine.synthesize(Lang::Zh, sentence).await.unwrap();
    assert_eq!(ours.sample_rate, 22_050);
    let ours = envelope(&ours.samples);
    // espeak-ng adds a little noise that depends on earlier utterances in the process, so the
    // samples are not bit-identical to a fresh CLI run; the speech itself is the same.
    let len_ratio = ours.len() as f64 / right.len() as f64;
    assert!(
        (0.98..=1.02).contains(&len_ratio),
        "ours {} vs cli {} frames",
        ours.len(),
        right.len()
    );
    let same = correlation(&ours, &right);
    let other = correlation(&ours, &wrong);
    eprintln!(
        "envelope correlation: cmn-latn-pinyin {same:.3}, cmn {other:.3}; frames ours {} cli {} cmn {}",
        ours.len(),
        right.len(),
        wrong.len()
    );
    assert!(same > 0.95, "correlation with cmn-latn-pinyin {same:.3}");
    assert!(
        other < 0.8 && other < same,
        "correlation with the broken cmn voice {other:.3}"
    );
}

#[tokio::test]
async fn cache_hit_returns_identical_samples_without_synthesis() {
    let dir = tempfile::tempdir().unwrap();
    let tts = tts_in(dir.path());
    let parts = [text("您的欠费金额为"), Speech::Money(32050)];
    let first = tts.speak(Lang::Zh, &parts).await.unwrap();
    assert_eq!(tts.stats().synthesized, 1);
    let second = tts.speak(Lang::Zh, &parts).await.unwrap();
    assert_eq!(first, second);
    assert_eq!(tts.stats().synthesized, 1, "{:?}", tts.stats());
    assert_eq!(tts.stats().memory_hits, 1);
    // English is a different voice: a different entry.
    tts.speak(Lang::En, &parts).await.unwrap();
    assert_eq!(tts.stats().synthesized, 2);

    // A restarted service finds the entry on disk.
    let cache_files = std::fs::read_dir(dir.path().join("tts-cache"))
        .unwrap()
        .count();
    assert_eq!(cache_files, 2);
    let restarted = tts_in(dir.path());
    let third = restarted.speak(Lang::Zh, &parts).await.unwrap();
    assert_eq!(first, third);
    assert_eq!(restarted.stats().synthesized, 0);
    assert_eq!(restarted.stats().disk_hits, 1);
}

#[tokio::test]
async fn concurrent_requests_for_one_text_share_a_synthesis() {
    let dir = tempfile::tempdir().unwrap();
    let tts = Arc::new(tts_in(dir.path()));
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let tts = tts.clone();
        tasks.push(tokio::spawn(async move {
            tts.speak(Lang::Zh, &[text("请稍候，正在为您转接客服。")])
                .await
        }));
    }
    let mut outputs = Vec::new();
    for t in tasks {
        outputs.push(t.await.unwrap().unwrap());
    }
    assert!(outputs.windows(2).all(|w| w[0] == w[1]));
    assert_eq!(tts.stats().synthesized, 1, "{:?}", tts.stats());
}

/// A caller who hangs up while their prompt is being synthesized must not waste the synthesis:
/// it finishes, lands in the cache, and the next caller gets it without synthesizing again.
#[tokio::test]
async fn a_synthesis_whose_caller_hung_up_still_fills_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    let tts = Arc::new(tts_in(dir.path()));
    let long = "尊敬的业主您好，您名下阳光花园三栋二单元一千二百零一室截至本月共有三笔物业费未缴，合计一千二百三十四元五角，请您尽快缴纳。";
    // The request is dropped (the caller hung up) 5 ms in, long before espeak-ng is done.
    let gone = tokio::time::timeout(std::time::Duration::from_millis(5), tts.speak(Lang::Zh, &[text(long)])).await;
    assert!(gone.is_err(), "a long sentence cannot be synthesized in 5 ms");
    // The next caller waits for the same synthesis (or finds it cached): never a second one.
    let pcm = tts.speak(Lang::Zh, &[text(long)]).await.unwrap();
    assert!(secs(&pcm) > 5.0, "{} s", secs(&pcm));
    assert_eq!(tts.stats().synthesized, 1, "{:?}", tts.stats());
    // And once it is done, it is a plain cache hit.
    let again = tts.speak(Lang::Zh, &[text(long)]).await.unwrap();
    assert_eq!(again, pcm);
    assert_eq!(tts.stats().synthesized, 1, "{:?}", tts.stats());
}

fn tone(rate: u32, channels: u16, secs: f32, freq: f32, right_silent: bool) -> Vec<i16> {
    let n = (rate as f32 * secs) as usize;
    let mut out = Vec::with_capacity(n * usize::from(channels));
    for i in 0..n {
        let v =
            (16_000.0 * (2.0 * std::f32::consts::PI * freq * i as f32 / rate as f32).sin()) as i16;
        for ch in 0..channels {
            out.push(if ch == 1 && right_silent { 0 } else { v });
        }
    }
    out
}

fn write_wav(path: &Path, rate: u32, channels: u16, samples: &[i16]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let spec = hound::WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for &s in samples {
        w.write_sample(s).unwrap();
    }
    w.finalize().unwrap();
}

#[tokio::test]
async fn a_recorded_prompt_overrides_the_tts_fallback() {
    let dir = tempfile::tempdir().unwrap();
    let tts = tts_in(dir.path());
    let welcome = Speech::Prompt {
        key: "welcome".into(),
        fallback: "欢迎致电物业服务中心".into(),
    };

    // No recording yet: the fallback is synthesized.
    let synthesized = tts
        .speak(Lang::Zh, std::slice::from_ref(&welcome))
        .await
        .unwrap();
    assert_eq!(tts.stats().synthesized, 1);

    // The operator records it (16 kHz mono, 1.5 s) in the Mandarin folder.
    write_wav(
        &dir.path().join("prompts/zh/welcome.wav"),
        16_000,
        1,
        &tone(16_000, 1, 1.5, 440.0, false),
    );
    let recorded = tts
        .speak(Lang::Zh, std::slice::from_ref(&welcome))
        .await
        .unwrap();
    assert_ne!(recorded, synthesized);
    assert!(
        (recorded.len() as i64 - 12_000).abs() <= 8,
        "{} samples",
        recorded.len()
    );
    assert_eq!(tts.stats().synthesized, 1);
    assert_eq!(tts.stats().recordings, 1);

    // English has no recording: still synthesized; a plugin's path-traversal key is refused.
    tts.speak(
        Lang::En,
        &[Speech::Prompt {
            key: "welcome".into(),
            fallback: "Welcome".into(),
        }],
    )
    .await
    .unwrap();
    assert_eq!(tts.stats().recordings, 1);
    let evil = Speech::Prompt {
        key: "../prompts/zh/welcome".into(),
        fallback: "您好".into(),
    };
    tts.speak(Lang::Zh, &[evil]).await.unwrap();
    assert_eq!(tts.stats().recordings, 1);

    // A recording mixed with dynamic parts and a pause: lengths add up exactly.
    let amount = tts.speak(Lang::Zh, &[Speech::Money(32050)]).await.unwrap();
    let all = tts
        .speak(
            Lang::Zh,
            &[welcome.clone(), Speech::Pause(250), Speech::Money(32050)],
        )
        .await
        .unwrap();
    assert_eq!(all.len(), recorded.len() + 2_000 + amount.len());
    assert_eq!(&all[..recorded.len()], &recorded[..]);
    assert!(
        all[recorded.len()..recorded.len() + 2_000]
            .iter()
            .all(|&s| s == 0)
    );

    // A corrupt recording falls back to speech instead of failing the call.
    std::fs::write(dir.path().join("prompts/zh/welcome.wav"), b"not a wav").unwrap();
    let fallback = tts
        .speak(Lang::Zh, std::slice::from_ref(&welcome))
        .await
        .unwrap();
    assert_eq!(fallback, synthesized);
}

#[tokio::test]
async fn stereo_44k_wav_becomes_8k_mono_of_the_same_duration() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hold.wav");
    // 2.0 s of 440 Hz on the left channel, silence on the right.
    write_wav(&path, 44_100, 2, &tone(44_100, 2, 2.0, 440.0, true));
    let pcm = load_wav_8k(&path).unwrap();
    assert!(
        (pcm.len() as i64 - 16_000).abs() <= 8,
        "{} samples",
        pcm.len()
    );
    // Mixed to mono: half the left channel's level (16,000 peak → RMS 11,314 → 5,657).
    let level = rms(&pcm[800..15_000]);
    assert!((level - 5_657.0).abs() < 300.0, "rms {level}");
    // And the async path used by plugins gives the same samples.
    let tts = tts_in(dir.path());
    assert_eq!(tts.play_wav(&path).await.unwrap(), pcm);
    // Replacing the file is picked up (the decoded copy is keyed by size and mtime).
    write_wav(&path, 16_000, 1, &tone(16_000, 1, 0.5, 440.0, false));
    assert_eq!(tts.play_wav(&path).await.unwrap().len(), 4_000);
    // Round trip through save_wav_8k keeps every sample.
    let copy = dir.path().join("copy.wav");
    save_wav_8k(&copy, &pcm).unwrap();
    assert_eq!(load_wav_8k(&copy).unwrap(), pcm);
    // Not a WAV: an error naming the file, not a panic.
    std::fs::write(dir.path().join("bad.wav"), b"RIFF....junk").unwrap();
    let err = load_wav_8k(&dir.path().join("bad.wav"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("bad.wav"), "{err}");
}

#[tokio::test]
async fn mixed_chinese_and_latin_text_uses_both_voices() {
    let engine = Espeak::new(EspeakConfig::default()).unwrap();
    let zh_only = engine.synthesize(Lang::Zh, "请连接网络").await.unwrap();
    let mixed = engine.synthesize(Lang::Zh, "请连接WiFi网络").await.unwrap();
    // "WiFi" adds English speech; read as pinyin it would be mangled or dropped.
    assert!(
        mixed.samples.len() > zh_only.samples.len() + 22_050 / 5,
        "{} vs {}",
        mixed.samples.len(),
        zh_only.samples.len()
    );
    let en_ph = courtyard_tts::espeak::phonemes("en", "WiFi").await.unwrap();
    assert!(en_ph.to_lowercase().contains("w"), "{en_ph}");
}

#[tokio::test]
async fn what_is_shown_is_what_is_synthesized() {
    // The simulator shows render_text; the service synthesizes the same text once.
    let dir = tempfile::tempdir().unwrap();
    let tts = tts_in(dir.path());
    let parts = [
        text("工单号"),
        Speech::Digits("20261127".into()),
        text("，上门时间"),
        Speech::Date("2026-11-28T14:30".into()),
    ];
    let shown = render_text(Lang::Zh, &parts);
    assert_eq!(
        shown,
        "工单号二零二六幺幺二七，上门时间二零二六年十一月二十八日十四点三十分"
    );
    let spoken = tts.speak(Lang::Zh, &parts).await.unwrap();
    let direct = tts.say_text(Lang::Zh, &shown).await.unwrap();
    assert_eq!(spoken, direct);
    assert_eq!(tts.stats().synthesized, 1);
}

#[tokio::test]
async fn odd_input_does_not_break_synthesis() {
    let dir = tempfile::tempdir().unwrap();
    let tts = tts_in(dir.path());
    assert!(tts.speak(Lang::Zh, &[]).await.unwrap().is_empty());
    assert_eq!(
        tts.speak(Lang::Zh, &[Speech::Pause(100)])
            .await
            .unwrap()
            .len(),
        800
    );
    let nul = tts.speak(Lang::Zh, &[text("您好\0再见")]).await.unwrap();
    assert!(secs(&nul) > 0.5);
    let unknown = Espeak::new(EspeakConfig {
        mandarin_voice: "no-such-voice".into(),
        ..EspeakConfig::default()
    })
    .unwrap();
    let err = unknown
        .synthesize(Lang::Zh, "您好")
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("no-such-voice"), "{err}");
    // A runaway text is refused instead of occupying the shared engine thread.
    let novel = "很长的文本".repeat(300);
    let err = tts
        .speak(Lang::Zh, &[text(&novel)])
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("too long"), "{err}");
    // The shared engine still works after the failed voice.
    assert!(
        !tts.speak(Lang::Zh, &[text("还在")])
            .await
            .unwrap()
            .is_empty()
    );
}
