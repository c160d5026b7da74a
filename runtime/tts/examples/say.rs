//! Preview a prompt as callers will hear it: renders the parts, synthesizes them at 8 kHz and
//! writes a WAV file (uses `./data` for the prompt library and cache unless `--data DIR`).
//!
//! ```text
//! cargo run -p courtyard-tts --example say -- -o out.wav 您的欠费为 money:32050 pause:300 digits:101
//! cargo run -p courtyard-tts --example say -- --lang en -o out.wav "Your balance is" money:100050
//! ```
//! Parts: plain text, `money:FEN`, `number:N`, `digits:STR`, `date:ISO`, `pause:MS`,
//! `prompt:KEY=FALLBACK`.

use std::path::PathBuf;

use courtyard_tts::{Lang, Speech, TELEPHONE_RATE, Tts, render_text, save_wav_8k};

fn parse(arg: &str) -> Result<Speech, String> {
    let bad = |e: std::num::ParseIntError| format!("{arg}: {e}");
    Ok(match arg.split_once(':') {
        Some(("money", v)) => Speech::Money(v.parse().map_err(bad)?),
        Some(("number", v)) => Speech::Number(v.parse().map_err(bad)?),
        Some(("digits", v)) => Speech::Digits(v.into()),
        Some(("date", v)) => Speech::Date(v.into()),
        Some(("pause", v)) => Speech::Pause(v.parse().map_err(bad)?),
        Some(("prompt", v)) => {
            let (key, fallback) = v.split_once('=').unwrap_or((v, ""));
            Speech::Prompt {
                key: key.into(),
                fallback: fallback.into(),
            }
        }
        _ => Speech::Text(arg.into()),
    })
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (mut lang, mut out, mut data, mut parts) = (
        Lang::Zh,
        PathBuf::from("say.wav"),
        PathBuf::from("data"),
        Vec::new(),
    );
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--lang" => {
                lang = args
                    .next()
                    .and_then(|l| Lang::from_code(&l))
                    .ok_or("--lang zh|en")?
            }
            "-o" => out = args.next().ok_or("-o FILE")?.into(),
            "--data" => data = args.next().ok_or("--data DIR")?.into(),
            _ => parts.push(parse(&a)?),
        }
    }
    let tts = Tts::espeak(&data)?;
    let pcm = tts.speak(lang, &parts).await?;
    save_wav_8k(&out, &pcm)?;
    println!("{}", render_text(lang, &parts));
    println!(
        "{} ({:.2} s, {:?})",
        out.display(),
        pcm.len() as f64 / f64::from(TELEPHONE_RATE),
        tts.stats()
    );
    Ok(())
}
