//! Real speech (espeak-ng, Debian package, the same engine the TTS crate uses): the in-band DTMF
//! detector must not hear keys in Mandarin or English prompts (talk-off), must still find keys
//! pressed between words, and the VAD must see speech where there is speech.

use courtyard_media::codec::Codec;
use courtyard_media::dtmf::goertzel::GoertzelDetector;
use courtyard_media::{tone, vad};

/// Synthesizes `text` with the espeak-ng CLI and brings it to 8 kHz (a 2-pole low-pass then
/// linear interpolation: crude, but speech-like is all this test needs).
fn speech(voice: &str, text: &str) -> Vec<i16> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.wav");
    let out = std::process::Command::new("espeak-ng")
        .args(["-v", voice, "-w"])
        .arg(&path)
        .arg(text)
        .output()
        .expect("espeak-ng (Debian package espeak-ng) must be installed for this test");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let wav = hound::WavReader::open(&path).unwrap();
    let rate = wav.spec().sample_rate as f64;
    let x: Vec<f64> = wav.into_samples::<i16>().map(|s| s.unwrap() as f64 * 0.7).collect();
    let mut y = vec![0.0; x.len()];
    let (mut a, mut b) = (0.0, 0.0);
    for (i, v) in x.iter().enumerate() {
        a += 0.45 * (v - a);
        b += 0.45 * (a - b);
        y[i] = b;
    }
    let n = (y.len() as f64 * 8000.0 / rate) as usize;
    (0..n)
        .map(|i| {
            let t = i as f64 * rate / 8000.0;
            let k = t as usize;
            let f = t - k as f64;
            let v = y[k] * (1.0 - f) + y.get(k + 1).copied().unwrap_or(0.0) * f;
            v.clamp(-32768.0, 32767.0) as i16
        })
        .collect()
}

fn through(codec: Codec, pcm: &[i16]) -> Vec<i16> {
    let mut e = Vec::new();
    codec.encode(pcm, &mut e);
    let mut d = Vec::new();
    codec.decode(&e, &mut d);
    d
}

fn detect(pcm: &[i16]) -> String {
    let mut g = GoertzelDetector::new();
    pcm.chunks(160).filter_map(|f| g.process(f)).map(|d| d.digit).collect()
}

#[test]
fn prompts_in_mandarin_and_english_do_not_trigger_dtmf_but_keys_between_words_do() {
    let zh = speech(
        "cmn-latn-pinyin",
        "nin hao, huan ying zhi dian wu ye fu wu re xian. cha xun wu ye fei qing an yi, bao xiu qing an er, tou su jian yi qing an san, ren gong fu wu qing an ling. nin de qian fei wei san bai er shi yuan wu jiao.",
    );
    let en = speech("en", "Welcome to the property service hotline. For bills press one, for repairs press two, to speak to an agent press zero.");
    for codec in [Codec::Pcmu, Codec::Pcma] {
        for (name, s) in [("zh", &zh), ("en", &en)] {
            let s = through(codec, s);
            assert_eq!(detect(&s), "", "talk-off in {name} speech through {codec:?}");
            // The VAD sees most of it as voice: speech with natural pauses.
            let total = (s.len() / 8) as u32;
            let voiced = vad::voiced_ms(&s);
            assert!(voiced > total / 2 && voiced <= total, "{name}: {voiced} of {total} ms voiced");
        }
    }
    // Keys pressed between the words are found, in order.
    let mut mix = zh[..16000].to_vec();
    mix.extend(tone::dtmf('5', 100, 10000).unwrap());
    mix.extend(&zh[16000..32000]);
    mix.extend(tone::dtmf('#', 100, 10000).unwrap());
    mix.extend(&en[..16000]);
    assert_eq!(detect(&through(Codec::Pcma, &mix)), "5#");
}
