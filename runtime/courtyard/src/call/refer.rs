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

/// Maps the Refer-To URI to a transfer target like the API does; `Err` is the sipfrag status
/// for a target we refuse (the call stays bridged).
async fn resolve(shared: &Shared, refer_to: &str, actor: &str) -> Result<TransferTarget, u16> {
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
    if digits && !shared.sip.registrar().lookup(&user).is_empty() {
        return Ok(TransferTarget::Extension(user));
    }
    if shared.cfg.queues.iter().any(|q| q.name == user) {
        return Ok(TransferTarget::Queue(user));
    }
    if shared.cfg.agents.iter().any(|a| a.extension == user) {
        // An agent's extension whose phone is not registered: the API refuses it too.
        return Err(480);
    }
    if !digits || user.trim_start_matches('+').is_empty() {
        return Err(404);
    }
    // The dial-plan guard (toll-fraud protection) decides, and audits a refusal.
    match crate::outbound::check_destination(shared, &user, actor).await {
        Ok(n) => Ok(TransferTarget::External(n)),
        Err(_) => Err(403),
    }
}

/// A REFER from the agent leg of a bridged call: returns the target to transfer the caller to
/// (after NOTIFY 100 and the audit entry), or `None` when refused (the phone got the NOTIFY).
pub async fn accept(shared: &Shared, agent: &AgentCall, call_id: &str, refer_to: &str) -> Option<TransferTarget> {
    let actor = actor(&agent.agent_id);
    match resolve(shared, refer_to, &actor).await {
        Ok(target) => {
            tracing::info!(%call_id, agent = %agent.agent_id, %target, "transfer from the agent's phone");
            let _ = agent.dialog.notify_refer(100);
            shared.audit(&actor, "call.transfer", call_id, Some(target.to_string())).await;
            Some(target)
        }
        Err(code) => {
            tracing::info!(%call_id, agent = %agent.agent_id, %refer_to, code, "phone transfer refused; the call stays bridged");
            let _ = agent.dialog.notify_refer(code);
            None
        }
    }
}

/// Keeps the transferor's leg (audio closed) until the transfer's outcome is known, sends the
/// final NOTIFY, and hangs up unless the phone sends BYE first. `done`: the outcome is already
/// known (a queue takes the caller at once).
pub fn finish(agent: AgentCall, call_id: &str, done: bool) {
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
        let _ = agent.dialog.notify_refer(code);
        let phone_left = tokio::time::timeout(BYE_GRACE, async {
            loop {
                match agent.dialog.next_event().await {
                    Some(DialogEvent::Bye) | Some(DialogEvent::Terminated(_)) | None => return,
                    Some(DialogEvent::Refer { .. }) => agent.dialog.decline_refer(),
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
