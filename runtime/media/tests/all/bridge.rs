//! Bridging a PCMU caller leg with a PCMA agent leg: the audio arrives transcoded and recognisably
//! the same (correlation), under the far leg's own SSRC/sequence/timestamps; DTMF is relayed;
//! a supervisor can listen; dropping the bridge stops the audio.

use std::time::Duration;

use courtyard_media::codec::Codec;
use courtyard_media::dtmf::rfc4733::EventPayload;
use courtyard_media::{bridge, link_audio};

use crate::peer::{Peer, chirp, decode, matched_fraction, session};

#[tokio::test]
async fn bridged_legs_transcode_rewrite_and_relay_dtmf() {
    let caller_leg = session().await;
    let agent_leg = session().await;
    let mut caller = Peer::new().await;
    let mut agent = Peer::new().await;
    caller.ssrc = 0xAAAA;
    agent.ssrc = 0xBBBB;
    caller_leg.set_remote(caller.addr(), Codec::Pcmu, Some(101));
    agent_leg.set_remote(agent.addr(), Codec::Pcma, Some(96));
    let b = bridge(&caller_leg, &agent_leg);
    tokio::time::sleep(Duration::from_millis(40)).await;
    caller.drain();
    agent.drain();

    // Caller speaks (PCMU) → agent hears it as PCMA.
    let speech = chirp(1000);
    let (to_caller_leg, to_agent_leg) = (caller_leg.local_addr(), agent_leg.local_addr());
    let speak = tokio::spawn(async move {
        caller.stream(to_caller_leg, Codec::Pcmu, &speech).await;
        caller
    });
    let heard = agent.collect(120, Duration::from_secs(3)).await;
    let mut caller = speak.await.unwrap();
    assert!(heard.len() >= 60, "{} packets", heard.len());
    assert!(heard.iter().all(|p| p.pt == 8), "agent leg speaks PCMA");
    assert!(heard.iter().all(|p| p.ssrc == heard[0].ssrc) && heard[0].ssrc != 0xAAAA, "SSRC rewritten");
    for w in heard.windows(2) {
        assert_eq!(w[1].seq, w[0].seq.wrapping_add(1));
        assert_eq!(w[1].ts.wrapping_sub(w[0].ts), 160);
    }
    let pcm = decode(&heard, Codec::Pcma);
    let c = matched_fraction(&chirp(1000), &pcm);
    assert!(c >= 0.75, "caller audio found at the agent: {:.0} % of windows", c * 100.0);
    assert!(matched_fraction(&chirp(1000), &vec![0i16; 8000]) == 0.0);

    // Agent speaks (PCMA) → caller hears it as PCMU.
    caller.drain();
    let speech = chirp(1000);
    let speak = tokio::spawn(async move {
        agent.stream(to_agent_leg, Codec::Pcma, &speech).await;
        agent
    });
    let heard = caller.collect(120, Duration::from_secs(3)).await;
    let agent = speak.await.unwrap();
    assert!(heard.iter().all(|p| p.pt == 0));
    let c = matched_fraction(&chirp(1000), &decode(&heard, Codec::Pcmu));
    assert!(c >= 0.75, "agent audio found at the caller: {:.0} % of windows", c * 100.0);

    // DTMF from the caller (pt 101) reaches the agent as RFC 4733 with the agent's pt 96.
    agent.drain();
    caller.press(to_caller_leg, 101, 7, 10).await;
    let pk = agent.collect(60, Duration::from_secs(3)).await;
    let ev: Vec<EventPayload> = pk.iter().filter(|p| p.pt == 96).filter_map(|p| EventPayload::decode(&p.payload)).collect();
    assert!(!ev.is_empty(), "no telephone-event relayed");
    assert!(ev.iter().all(|e| e.event == 7));
    assert_eq!(ev.iter().filter(|e| e.end).count(), 3);

    // Unbridged: the agent hears only silence again.
    drop(b);
    tokio::time::sleep(Duration::from_millis(60)).await;
    let speech = chirp(300);
    let speak = tokio::spawn(async move { caller.stream(to_caller_leg, Codec::Pcmu, &speech).await });
    agent.drain();
    let pk = agent.collect(15, Duration::from_secs(2)).await;
    speak.await.unwrap();
    assert!(pk.iter().all(|p| p.payload.iter().all(|&b| b == 0xD5)), "audio leaked after unbridge");
    caller_leg.close().await;
    agent_leg.close().await;
}

#[tokio::test]
async fn supervisor_listens_to_both_legs_and_whispers_to_the_agent_only() {
    let (cl, al, sl) = (session().await, session().await, session().await);
    let (mut caller, agent, supervisor) = (Peer::new().await, Peer::new().await, Peer::new().await);
    cl.set_remote(caller.addr(), Codec::Pcma, None);
    al.set_remote(agent.addr(), Codec::Pcmu, None);
    sl.set_remote(supervisor.addr(), Codec::Pcmu, None);
    let b = bridge(&cl, &al);
    let listen = b.listen(&sl);
    tokio::time::sleep(Duration::from_millis(40)).await;
    supervisor.drain();
    let speech = chirp(800);
    let to = cl.local_addr();
    let speak = tokio::spawn(async move {
        caller.stream(to, Codec::Pcma, &speech).await;
        caller
    });
    let heard = supervisor.collect(100, Duration::from_secs(3)).await;
    let caller = speak.await.unwrap();
    let c = matched_fraction(&chirp(800), &decode(&heard, Codec::Pcmu));
    assert!(c >= 0.75, "supervisor hears the caller: {:.0} % of windows", c * 100.0);
    drop(listen);

    // Whisper: the supervisor's phone talks into the supervisor leg; agent hears, caller doesn't.
    let _w = link_audio(&sl, &al);
    let mut sup = supervisor;
    tokio::time::sleep(Duration::from_millis(40)).await;
    agent.drain();
    caller.drain();
    let speech = chirp(800);
    let to = sl.local_addr();
    let speak = tokio::spawn(async move { sup.stream(to, Codec::Pcmu, &speech).await });
    let (at_agent, at_caller) = tokio::join!(agent.collect(100, Duration::from_secs(3)), caller.collect(100, Duration::from_secs(3)));
    speak.await.unwrap();
    assert!(matched_fraction(&chirp(800), &decode(&at_agent, Codec::Pcmu)) >= 0.75, "agent hears the whisper");
    assert!(at_caller.iter().all(|p| p.payload.iter().all(|&b| b == 0xD5)), "caller must not hear the whisper");
    drop(b);
    for s in [cl, al, sl] {
        s.close().await;
    }
}

#[tokio::test]
async fn barge_makes_the_supervisor_heard_by_both_parties() {
    let (cl, al, sl) = (session().await, session().await, session().await);
    let (caller, agent, mut supervisor) = (Peer::new().await, Peer::new().await, Peer::new().await);
    cl.set_remote(caller.addr(), Codec::Pcmu, None);
    al.set_remote(agent.addr(), Codec::Pcma, None);
    sl.set_remote(supervisor.addr(), Codec::Pcmu, None);
    let b = bridge(&cl, &al);
    let barge = b.barge(&sl);
    tokio::time::sleep(Duration::from_millis(40)).await;
    caller.drain();
    agent.drain();
    let to = sl.local_addr();
    let speak = tokio::spawn(async move { supervisor.stream(to, Codec::Pcmu, &chirp(800)).await });
    let (at_caller, at_agent) = tokio::join!(caller.collect(100, Duration::from_secs(3)), agent.collect(100, Duration::from_secs(3)));
    speak.await.unwrap();
    assert!(matched_fraction(&chirp(800), &decode(&at_caller, Codec::Pcmu)) >= 0.75, "caller hears the supervisor");
    assert!(matched_fraction(&chirp(800), &decode(&at_agent, Codec::Pcma)) >= 0.75, "agent hears the supervisor");
    drop(barge);
    drop(b);
    for s in [cl, al, sl] {
        s.close().await;
    }
}
