//! Session lifecycle: ports come from the configured range and go back to it when a session is
//! closed or its last handle is dropped.

use std::net::Ipv4Addr;
use std::time::Duration;

use courtyard_media::{MediaConfig, MediaError, MediaSession, MediaThread, PortAllocator};

#[tokio::test]
async fn sessions_take_even_ports_from_the_range_and_give_them_back() {
    // A range of its own (unit tests of the allocator use 31100-31107).
    let ports = PortAllocator::new(Ipv4Addr::LOCALHOST.into(), 31200..=31205);
    let a = MediaSession::open(&ports, MediaConfig::default()).await.unwrap();
    let b = MediaSession::open(&ports, MediaConfig::default()).await.unwrap();
    let c = MediaSession::open(&ports, MediaConfig::default()).await.unwrap();
    let mut got: Vec<u16> = [&a, &b, &c].iter().map(|s| s.local_addr().port()).collect();
    got.sort();
    assert_eq!(got, vec![31200, 31202, 31204]);
    assert!(matches!(MediaSession::open(&ports, MediaConfig::default()).await, Err(MediaError::PortsExhausted { .. })));
    a.close().await;
    assert_eq!(ports.in_use(), 2);
    // Dropping the last handle ends the session too.
    drop(b);
    for _ in 0..100 {
        if ports.in_use() == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(ports.in_use(), 1);
    let d = MediaSession::open(&ports, MediaConfig::default()).await.unwrap();
    assert!(d.local_addr().port() % 2 == 0);
    c.close().await;
    d.close().await;
    assert_eq!(ports.in_use(), 0);
}

#[test]
fn a_session_can_live_on_a_dedicated_media_runtime() {
    // The caller's runtime (think: plugin host) and the media runtime are different.
    let media_rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let main_rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let ports = PortAllocator::any(Ipv4Addr::LOCALHOST.into());
    main_rt.block_on(async {
        let a = MediaSession::open_on(media_rt.handle(), &ports, MediaConfig::default()).unwrap();
        let b = MediaSession::open_on(media_rt.handle(), &ports, MediaConfig::default()).unwrap();
        a.set_remote(b.local_addr(), courtyard_media::Codec::Pcmu, Some(101));
        b.set_remote(a.local_addr(), courtyard_media::Codec::Pcmu, Some(101));
        let mut rx = b.digits();
        a.send_dtmf('8', 60).await.unwrap();
        let d = tokio::time::timeout(Duration::from_secs(5), rx.recv()).await.unwrap().unwrap();
        assert_eq!(d.digit, '8');
        a.close().await;
        b.close().await;
    });
}

#[tokio::test]
async fn a_media_thread_drives_many_legs_and_lets_each_go_when_it_ends() {
    let thread = MediaThread::spawn("lifecycle-media", || {}).unwrap();
    let ports = PortAllocator::new(Ipv4Addr::LOCALHOST.into(), 31220..=31259);
    // Ten pairs talking to each other on one thread.
    let legs: Vec<MediaSession> = (0..20).map(|_| MediaSession::open_on_thread(&thread, &ports, MediaConfig::default()).unwrap()).collect();
    assert_eq!(thread.legs(), 20);
    for pair in legs.chunks(2) {
        pair[0].set_remote(pair[1].local_addr(), courtyard_media::Codec::Pcma, Some(101));
        pair[1].set_remote(pair[0].local_addr(), courtyard_media::Codec::Pcma, Some(101));
    }
    let mut rx = legs[7].digits();
    legs[6].send_dtmf('5', 60).await.unwrap();
    let d = tokio::time::timeout(Duration::from_secs(5), rx.recv()).await.unwrap().unwrap();
    assert_eq!(d.digit, '5');
    // Every leg sends and receives its partner's comfort silence.
    tokio::time::sleep(Duration::from_millis(300)).await;
    for s in &legs {
        let st = s.stats();
        assert!(st.packets_sent >= 5 && st.packets_received >= 5, "{st:?}");
    }
    // A closed leg has left the thread and given its port back by the time close returns.
    legs[0].close().await;
    assert_eq!(thread.legs(), 19);
    assert_eq!(ports.in_use(), 19);
    let port = legs[0].local_addr().port();
    let again = MediaSession::open_on_thread(&thread, &ports, MediaConfig::default()).unwrap();
    assert_eq!(again.local_addr().port(), port, "the only free port, and it binds at once");
    // Dropping every handle ends the legs too.
    drop(legs);
    drop(again);
    for _ in 0..100 {
        if ports.in_use() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(ports.in_use(), 0);
    assert_eq!(thread.legs(), 0);
}
