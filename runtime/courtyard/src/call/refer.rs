//! Transfer from the agent's own phone: the phone's transfer button sends an in-dialog REFER on
//! the agent leg (`Refer-To: <sip:8003@host>`). The Refer-To user is mapped to a
//! [`TransferTarget`] the way `POST /api/v1/calls/{id}/transfer` does (registered extension,
//! queue name, or an outside number through the dial-plan guard) and the transfer then runs on
//! the API's blind-transfer path ([`super::connect::serve`]). The phone hears about it on the
//! REFER's implicit subscription: NOTIFY `100 Trying` when the transfer starts, then `200 OK`
//! once the target answered (or took the caller into its queue) or `503` when it failed; a
//! refused target gets its status (403 from the guard, 404, 480) and the call stays bridged.
//! After the final NOTIFY the phone has a few seconds to send BYE before the runtime hangs up.

use std::collections::HashMap;
use std::sync::LazyLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use courtyard_sip::DialogEvent;
use courtyard_sip::uri::SipUri;
use parking_lot::Mutex;
use tokio::sync::oneshot;

use super::agent::AgentCall;
use super::connect::TransferTarget;
use crate::app::Shared;

/// How long the transferor's phone may keep its leg after the final NOTIFY before we send BYE.
const BYE_GRACE: Duration = Duration::from_secs(3);
/// Longest wait for a transfer's outcome (the target rings for at most 30 s).
const OUTCOME_WAIT: Duration = Duration::from_secs(40);

type Outcome = oneshot::Sender<Result<(), String>>;

/// Phone-initiated transfers waiting for their outcome, by the caller's call id.
static PENDING: LazyLock<Mutex<HashMap<String, (u64, Outcome)>>> = LazyLock::new(Default::default);
static NEXT: AtomicU64 = AtomicU64::new(1);

/// The audit actor of a phone-initiated transfer.
fn actor(agent_id: &str) -> String {
    format!("{agent_id} (phone REFER)")
}

/// What a Refer-To names, before the dial-plan guard looks at outside numbers.
#[derive(Debug, PartialEq, Eq)]
enum Named {
    /// A registered extension (an agent's phone, a desk phone).
    Extension(String),
    /// A queue of the configuration.
    Queue(String),
    /// Digits that are neither: an outside number, for the dial-plan guard.
    Outside(String),
}

/// Reads the Refer-To URI against what the node knows: `registered` (an extension with a
/// registered contact), `queue` (a configured queue name), `agent_extension` (a configured
/// agent's extension). `Err` is the sipfrag status for a target we refuse: 501 for attended
/// transfer (Replaces), 480 for an agent whose phone is not registered, 404 for anything else
/// that names nobody.
fn classify(
    refer_to: &str,
    registered: impl Fn(&str) -> bool,
    queue: impl Fn(&str) -> bool,
    agent_extension: impl Fn(&str) -> bool,
) -> Result<Named, u16> {
    if refer_to.to_ascii_lowercase().contains("replaces=") {
        // Attended transfer (RFC 3891): the phone's consultation call cannot be joined here.
        return Err(501);
    }
    let user = match SipUri::parse(refer_to) {
        Ok(u) => u.user_decoded().unwrap_or_default(),
        Err(_) => return Err(404),
    };
    if user.is_empty() {
        return Err(404);
    }
    let digits = user.len() <= 20 && user.trim_start_matches('+').chars().all(|c| c.is_ascii_digit());
    if digits && registered(&user) {
        return Ok(Named::Extension(user));
    }
    if queue(&user) {
        return Ok(Named::Queue(user));
    }
    if agent_extension(&user) {
        // An agent's extension whose phone is not registered: the API refuses it too.
        return Err(480);
    }
    if !digits || user.trim_start_matches('+').is_empty() {
        return Err(404);
    }
    Ok(Named::Outside(user))
}

/// Maps the Refer-To URI to a transfer target like the API does; `Err` is the sipfrag status
/// for a target we refuse (the call stays bridged).
async fn resolve(shared: &Shared, refer_to: &str, actor: &str) -> Result<TransferTarget, u16> {
    let named = classify(
        refer_to,
        |user| !shared.sip.registrar().lookup(user).is_empty(),
        |user| shared.cfg.queues.iter().any(|q| q.name == user),
        |user| shared.cfg.agents.iter().any(|a| a.extension == user),
    )?;
    match named {
        Named::Extension(user) => Ok(TransferTarget::Extension(user)),
        Named::Queue(name) => Ok(TransferTarget::Queue(name)),
        // The dial-plan guard (toll-fraud protection) decides, and audits a refusal.
        Named::Outside(number) => match crate::outbound::check_destination(shared, &number, actor).await {
            Ok(n) => Ok(TransferTarget::External(n)),
            Err(_) => Err(403),
        },
    }
}

/// A REFER from the agent leg of a bridged call: returns the target to transfer the caller to
/// (after NOTIFY 100 and the audit entry), or `None` when refused (the phone got the NOTIFY).
/// `id`: the REFER's subscription id (its CSeq), which every NOTIFY about it carries.
pub async fn accept(shared: &Shared, agent: &AgentCall, call_id: &str, refer_to: &str, id: u32) -> Option<TransferTarget> {
    let actor = actor(&agent.agent_id);
    match resolve(shared, refer_to, &actor).await {
        Ok(target) => {
            tracing::info!(%call_id, agent = %agent.agent_id, %target, "transfer from the agent's phone");
            let _ = agent.dialog.notify_refer(id, 100);
            shared.audit(&actor, "call.transfer", call_id, Some(target.to_string())).await;
            Some(target)
        }
        Err(code) => {
            tracing::info!(%call_id, agent = %agent.agent_id, %refer_to, code, "phone transfer refused; the call stays bridged");
            let _ = agent.dialog.notify_refer(id, code);
            None
        }
    }
}

/// Keeps the transferor's leg (audio closed) until the transfer's outcome is known, sends the
/// final NOTIFY, and hangs up unless the phone sends BYE first. `done`: the outcome is already
/// known (a queue takes the caller at once).
pub fn finish(agent: AgentCall, call_id: &str, done: bool, id: u32) {
    let (tx, rx) = oneshot::channel();
    let token = NEXT.fetch_add(1, Ordering::Relaxed);
    if done {
        let _ = tx.send(Ok(()));
    } else {
        PENDING.lock().insert(call_id.to_string(), (token, tx));
    }
    let call_id = call_id.to_string();
    tokio::spawn(async move {
        let mut agent = agent;
        agent.media.close().await;
        let outcome = tokio::time::timeout(OUTCOME_WAIT, rx).await;
        {
            let mut pending = PENDING.lock();
            if pending.get(&call_id).is_some_and(|(t, _)| *t == token) {
                pending.remove(&call_id);
            }
        }
        let code = match outcome {
            Ok(Ok(Ok(()))) => 200,
            Ok(Ok(Err(why))) if why.is_empty() => 487,
            _ => 503,
        };
        let _ = agent.dialog.notify_refer(id, code);
        let phone_left = tokio::time::timeout(BYE_GRACE, async {
            loop {
                match agent.dialog.next_event().await {
                    Some(DialogEvent::Bye) | Some(DialogEvent::Terminated(_)) | None => return,
                    Some(DialogEvent::Refer { id, .. }) => agent.dialog.decline_refer(id),
                    Some(_) => {}
                }
            }
        })
        .await;
        if phone_left.is_err() {
            tracing::info!(%call_id, agent = %agent.agent_id, "transferor's phone did not hang up; sending BYE");
            let _ = agent.dialog.hangup().await;
        }
    });
}

/// The outcome of a blind transfer (empty error: the caller left); reaches the phone that
/// asked for it, if the transfer came from a phone.
pub fn outcome(call_id: &str, result: Result<(), &str>) {
    let pending = PENDING.lock().remove(call_id);
    if let Some((_, tx)) = pending {
        let _ = tx.send(result.map_err(str::to_string));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(refer_to: &str) -> Result<Named, u16> {
        classify(refer_to, |u| u == "8002", |u| u == "billing", |u| ["8001", "8002", "8004"].contains(&u))
    }

    #[test]
    fn refer_to_names_an_extension_a_queue_or_an_outside_number_or_gets_its_refusal() {
        assert_eq!(named("sip:8002@10.0.0.1"), Ok(Named::Extension("8002".into())));
        assert_eq!(named("sip:billing@10.0.0.1"), Ok(Named::Queue("billing".into())));
        assert_eq!(named("sip:13800138000@10.0.0.1;user=phone"), Ok(Named::Outside("13800138000".into())));
        assert_eq!(named("sip:%2B8613800138000@10.0.0.1"), Ok(Named::Outside("+8613800138000".into())));
        // An agent whose phone is not registered: temporarily unavailable, not "no such".
        assert_eq!(named("sip:8004@10.0.0.1"), Err(480));
        // Names nobody: a word that is no queue, no user part, a URI that does not parse.
        assert_eq!(named("sip:reception@10.0.0.1"), Err(404));
        assert_eq!(named("sip:10.0.0.1"), Err(404));
        assert_eq!(named("sip:+@10.0.0.1"), Err(404));
        assert_eq!(named("not a uri"), Err(404));
        // Attended transfer (the phone's consultation call): not implemented, whoever it names.
        assert_eq!(named("sip:8002@10.0.0.1?Replaces=abc%40host%3Bto-tag%3D1%3Bfrom-tag%3D2"), Err(501));
    }
}
