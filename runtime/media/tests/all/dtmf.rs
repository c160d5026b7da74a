//! DTMF end to end: RFC 4733 from a raw peer (redundant end packets, volume, duration), between
//! two sessions, in-band tones between two sessions without telephone-events, and SIP INFO
//! injection.

use std::time::Duration;

use courtyard_media::codec::Codec;
use courtyard_media::{DtmfSource, MediaSession};

use crate::peer::{Peer, session};

async fn next_digits(rx: &mut courtyard_media::DigitReceiver, n: usize) -> Vec<courtyard_media::DtmfDigit> {
    let mut v = Vec::new();
    while v.len() < n {
        match tokio::time::timeout(Duration::from_secs(5), rx.recv()).await {
            Ok(Some(d)) => v.push(d),
            _ => break,
        }
    }
    v
}

#[tokio::test]
async fn rfc4733_from_a_phone_is_reported_once_with_volume_and_duration() {
    let s = session().await;
    let mut peer = Peer::new().await;
    s.set_remote(peer.addr(), Codec::Pcmu, Some(101));
    let mut rx = s.digits();
    peer.press(s.local_addr(), 101, 5, 12).await;
    peer.press(s.local_addr(), 11, 7, 12).await; // wrong pt 11: not negotiated, dropped
    peer.press(s.local_addr(), 101, 11, 3).await;
    let d = next_digits(&mut rx, 2).await;
    assert_eq!(d.iter().map(|d| d.digit).collect::<String>(), "5#");
    assert_eq!(d[0].volume, Some(12));
    assert_eq!(d[1].volume, Some(3));
    assert_eq!(d[0].duration_ms, 100);
    assert!(d.iter().all(|d| d.source == DtmfSource::Rfc4733));
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(rx.try_recv().is_none(), "redundant end packets must not repeat a digit");
    let st = s.stats();
    assert_eq!(st.digits_received, 2);
    assert_eq!(st.dropped_wrong_pt, 8);
    s.close().await;
}

async fn pair(te: Option<u8>, codec: Codec) -> (MediaSession, MediaSession) {
    let a = session().await;
    let b = session().await;
    a.set_remote(b.local_addr(), codec, te);
    b.set_remote(a.local_addr(), codec, te);
    (a, b)
}

#[tokio::test]
async fn digits_sent_by_one_session_arrive_at_another_as_rfc4733() {
    let (a, b) = pair(Some(101), Codec::Pcma).await;
    let mut rx = b.digits();
    for k in "159#*0".chars() {
        a.send_dtmf(k, 80).await.unwrap();
    }
    let d = next_digits(&mut rx, 6).await;
    assert_eq!(d.iter().map(|d| d.digit).collect::<String>(), "159#*0");
    assert!(d.iter().all(|d| d.source == DtmfSource::Rfc4733 && d.duration_ms == 80 && d.volume == Some(10)));
    assert!(a.stats().dtmf_packets_sent >= 6 * (4 + 3));
    assert!(a.send_dtmf('x', 80).await.is_err());
    a.close().await;
    b.close().await;
}

#[tokio::test]
async fn without_telephone_events_digits_travel_as_tones_and_are_detected_in_band() {
    for codec in [Codec::Pcmu, Codec::Pcma] {
        let (a, b) = pair(None, codec).await;
        let mut rx = b.digits();
        for k in "2580".chars() {
            a.send_dtmf(k, 100).await.unwrap();
        }
        let d = next_digits(&mut rx, 4).await;
        assert_eq!(d.iter().map(|d| d.digit).collect::<String>(), "2580", "{codec:?}");
        assert!(d.iter().all(|d| d.source == DtmfSource::Inband));
        a.close().await;
        b.close().await;
    }
}

#[tokio::test]
async fn sip_info_digits_are_injected_into_the_same_stream() {
    let s = session().await;
    let mut rx = s.digits();
    s.inject_dtmf('7').unwrap();
    s.inject_dtmf('d').unwrap();
    assert!(s.inject_dtmf('?').is_err());
    let d = next_digits(&mut rx, 2).await;
    assert_eq!(d.iter().map(|d| (d.digit, d.source)).collect::<Vec<_>>(), vec![('7', DtmfSource::Injected), ('D', DtmfSource::Injected)]);
    s.close().await;
    assert_eq!(rx.recv().await, None, "closed session ends the digit stream");
}
