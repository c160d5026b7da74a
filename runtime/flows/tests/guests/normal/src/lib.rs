//! A well-behaved inbound flow (bill desk): greets the caller by name, offers arrears, repair
//! intake and an agent. `config.label` names the version in its greeting and goodbye, so tests
//! can tell versions apart; `config.reject = true` makes `check-config` fail.

wit_bindgen::generate!({ world: "inbound-flow", path: "../../../../../wit" });

use courtyard::flow::call::{self, CallError, CollectOptions, QueueOutcome, RecordOptions, Segment};
use courtyard::flow::work_orders::{self, Category, NewOrder, Priority};
use courtyard::flow::{billing, config, directory, log, notify};

struct Flow;

fn text(s: impl Into<String>) -> Vec<Segment> {
    vec![Segment::Text(s.into())]
}

fn err(e: CallError) -> String {
    match e {
        CallError::Hangup => "hangup".into(),
        CallError::NotAllowed(s) => format!("not allowed: {s}"),
        CallError::Failed(s) => format!("failed: {s}"),
    }
}

/// Value of a string field in a flat JSON object (tests only use simple configs).
fn field(json: &str, name: &str) -> Option<String> {
    let key = format!("\"{name}\"");
    let at = json.find(&key)? + key.len();
    let rest = json[at..].trim_start().strip_prefix(':')?.trim_start();
    let rest = rest.strip_prefix('"')?;
    Some(rest[..rest.find('"')?].to_string())
}

impl Guest for Flow {
    fn check_config() -> Result<(), String> {
        let cfg = config::get();
        if cfg.replace(' ', "").contains("\"reject\":true") {
            return Err("configuration says reject".into());
        }
        Ok(())
    }

    fn handle_call() -> Result<(), String> {
        let cfg = config::get();
        let label = field(&cfg, "label").unwrap_or_else(|| "v0".into());
        call::answer().map_err(err)?;
        let info = call::info();
        let residents = directory::lookup_caller(&info.caller).unwrap_or_default();
        let me = residents.first();
        let greeting = match me {
            Some(r) => format!(
                "您好，{}{}，这里是{label}",
                r.name.chars().next().map(String::from).unwrap_or_default(),
                r.honorific.clone().unwrap_or_default()
            ),
            None => format!("您好，这里是{label}"),
        };
        log::log(log::Level::Info, &format!("caller {} known: {}", info.caller, me.is_some()));
        call::say(&text(greeting), false).map_err(err)?;
        if let Some(reason) = field(&cfg, "fail_with") {
            return Err(reason);
        }
        let unit = me.and_then(|r| r.unit_ids.first().cloned());
        let opts = CollectOptions {
            min_digits: 1,
            max_digits: 1,
            first_digit_timeout_ms: 5000,
            inter_digit_timeout_ms: 3000,
            terminator: None,
            barge_in: true,
        };
        for _ in 0..3 {
            let got = call::collect(&text("查询欠费请按1，报修请按2，人工服务请按9"), &opts).map_err(err)?;
            call::mark(&format!("menu:{}", got.digits));
            match got.digits.as_str() {
                "1" => {
                    let Some(unit) = unit.as_deref() else {
                        call::say(&text("没有找到您的房屋信息"), false).map_err(err)?;
                        continue;
                    };
                    match billing::arrears(unit) {
                        Ok(fen) => {
                            call::say(&[Segment::Text("您的欠费为".into()), Segment::Money(fen)], false).map_err(err)?;
                            if fen > 0 {
                                let link = billing::payment_link(unit).map_err(|e| format!("{e:?}"))?;
                                let _ = notify::send(notify::Channel::Sms, &info.caller, &format!("缴费链接 {link}"));
                            }
                            call::say(&text(format!("再见，{label}")), false).map_err(err)?;
                            return Ok(());
                        }
                        Err(_) => {
                            call::say(&text("账单系统暂时不可用，正在为您转接人工"), false).map_err(err)?;
                            call::enqueue("billing", 1).map_err(err)?;
                            return Ok(());
                        }
                    }
                }
                "2" => {
                    call::say(&text("请在提示音后描述问题，按井号结束"), false).map_err(err)?;
                    let rec = call::record(&RecordOptions {
                        max_seconds: 60,
                        silence_timeout_ms: 3000,
                        terminator: Some("#".into()),
                        beep: true,
                    })
                    .map_err(err)?;
                    let order = work_orders::create(&NewOrder {
                        category: Category::Repair,
                        subcategory: Some("water".into()),
                        estate_id: info.estate_id.clone(),
                        unit_id: unit.clone(),
                        caller: info.caller.clone(),
                        description: "卫生间漏水".into(),
                        recording_id: Some(rec.id),
                        priority: Priority::Urgent,
                        parent_id: None,
                    })
                    .map_err(|e| format!("{e:?}"))?;
                    call::say(&[Segment::Text("您的工单号是".into()), Segment::Digits(order.id)], false).map_err(err)?;
                    return Ok(());
                }
                "8" => {
                    call::say(&text(format!("再见，{label}")), false).map_err(err)?;
                    return Ok(());
                }
                "9" => {
                    match call::enqueue("default", 0).map_err(err)? {
                        QueueOutcome::Timeout | QueueOutcome::CallbackRequested => {
                            let _ = work_orders::create_callback(&info.caller, "排队超时", None, "2026-11-26T10:00:00+08:00");
                            let _ = call::say(&text("我们会尽快给您回电"), false);
                        }
                        _ => {}
                    }
                    return Ok(());
                }
                "" => call::say(&text("您没有按键"), false).map_err(err)?,
                _ => call::say(&text("输入有误"), false).map_err(err)?,
            }
        }
        call::say(&text("再见"), false).map_err(err)?;
        call::hangup();
        Ok(())
    }
}

export!(Flow);
