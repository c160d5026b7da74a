//! TTS figures: espeak-ng synthesis speed (× real time), 8 kHz resampling cost, and what a
//! cached prompt costs (memory and disk hits).
//!
//! `cargo run --release -p courtyard-tts --example bench-tts`

use std::time::Instant;

use courtyard_tts::resample::{TTS_GAIN, to_8k};
use courtyard_tts::{Espeak, EspeakConfig, Lang, Speech, TELEPHONE_RATE, Tts, TtsEngine};

const SENTENCES: [&str; 8] = [
    "您好，欢迎致电阳光花园物业服务中心。",
    "查询物业费请按一，报修请按二，投诉建议请按三，人工服务请按零。",
    "您的房屋截至二零二六年十一月二十七日欠费三百二十元五角，请尽快缴纳。",
    "您的工单号是二零二六幺幺二七零零零幺，维修师傅将于明天下午两点上门。",
    "为保证服务质量，您的通话可能会被录音。",
    "请输入您的房号，以井号键结束。",
    "正在为您转接客服，请稍候。",
    "感谢您的来电，再见。",
];

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let engine = Espeak::new(EspeakConfig::default())?;
    let rate = courtyard_tts::espeak::native_sample_rate()?;
    engine.synthesize(Lang::Zh, "预热").await?;

    // 1. Raw engine speed over distinct sentences (no cache), 3 rounds.
    let (mut audio_secs, mut synth_secs, mut resample_secs, mut samples_8k) =
        (0.0, 0.0, 0.0, 0usize);
    for _ in 0..3 {
        for s in SENTENCES {
            let t = Instant::now();
            let audio = engine.synthesize(Lang::Zh, s).await?;
            synth_secs += t.elapsed().as_secs_f64();
            audio_secs += audio.samples.len() as f64 / f64::from(rate);
            let t = Instant::now();
            samples_8k += to_8k(&audio.samples, audio.sample_rate, TTS_GAIN)?.len();
            resample_secs += t.elapsed().as_secs_f64();
        }
    }
    println!(
        "espeak-ng cmn-latn-pinyin: {audio_secs:.1} s of speech in {:.1} ms = {:.0}x real time",
        synth_secs * 1e3,
        audio_secs / synth_secs
    );
    println!(
        "resample {rate} Hz -> 8 kHz (rubato FFT): {:.2} ms per second of audio ({} samples out)",
        resample_secs * 1e3 / audio_secs,
        samples_8k
    );

    // 2. The service: first call synthesizes, then memory hits, then disk hits after a restart.
    let dir = tempfile_dir()?;
    let tts = Tts::espeak(&dir)?;
    let prompt = |i: usize| {
        vec![
            Speech::Text("您的房屋欠费".into()),
            Speech::Money(32050 + i as i64),
            Speech::Pause(200),
            Speech::Text(SENTENCES[1].into()),
        ]
    };
    let t = Instant::now();
    let mut total = 0usize;
    for i in 0..20 {
        total += tts.speak(Lang::Zh, &prompt(i)).await?.len();
    }
    let cold = t.elapsed().as_secs_f64();
    // Each prompt has one new text (the amount) and one shared sentence (cached after the first).
    println!(
        "speak, cold cache: 20 prompts ({:.1} s of 8 kHz audio) in {:.1} ms = {:.0}x real time, {} syntheses",
        total as f64 / f64::from(TELEPHONE_RATE),
        cold * 1e3,
        total as f64 / f64::from(TELEPHONE_RATE) / cold,
        tts.stats().synthesized
    );

    let n = 20_000;
    let cached = [Speech::Text(SENTENCES[0].into())];
    tts.speak(Lang::Zh, &cached).await?;
    let t = Instant::now();
    for _ in 0..n {
        std::hint::black_box(tts.speak(Lang::Zh, &cached).await?);
    }
    println!(
        "speak, memory-cache hit (one text part): {:.2} µs",
        t.elapsed().as_secs_f64() * 1e6 / n as f64
    );
    let t = Instant::now();
    for _ in 0..n {
        std::hint::black_box(tts.speak(Lang::Zh, &prompt(0)).await?);
    }
    println!(
        "speak, memory-cache hit (text + money + pause + text, concatenated): {:.2} µs",
        t.elapsed().as_secs_f64() * 1e6 / n as f64
    );

    let restarted = Tts::espeak(&dir)?;
    let t = Instant::now();
    for i in 0..20 {
        restarted.speak(Lang::Zh, &prompt(i)).await?;
    }
    println!(
        "speak, disk-cache hit after restart: {:.1} µs per prompt ({} syntheses, {} disk hits)",
        t.elapsed().as_secs_f64() * 1e6 / 20.0,
        restarted.stats().synthesized,
        restarted.stats().disk_hits
    );
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

fn tempfile_dir() -> std::io::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("bench-tts-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
