// A caller's RTP endpoint in Node (port of tests/e2e/support/rtp.rs): learns the runtime's
// address from its first packet, sends 20 ms PCMU silence like a phone, and presses keys with
// RFC 4733 telephone-events (payload type 101, 5 progress packets + 3 end packets).
import dgram from 'node:dgram';

const SSRC = 0x12345678;
function rtp(pt, marker, seq, ts, payload) {
  const b = Buffer.alloc(12 + payload.length);
  b[0] = 0x80; b[1] = (marker ? 0x80 : 0) | pt;
  b.writeUInt16BE(seq & 0xffff, 2); b.writeUInt32BE(ts >>> 0, 4); b.writeUInt32BE(SSRC, 8);
  Buffer.from(payload).copy(b, 12);
  return b;
}

export async function bindPhone() {
  let sock;
  for (;;) {
    sock = dgram.createSocket('udp4');
    await new Promise((res, rej) => { sock.once('error', rej); sock.bind(0, '127.0.0.1', res); });
    if (sock.address().port % 2 === 0) break;
    sock.close();
  }
  const phone = { sock, remote: null, packets: 0, seq: 1000, ts: 0, port: sock.address().port };
  sock.on('message', (msg, rinfo) => {
    if (msg.length < 12 || (msg[0] >> 6) !== 2) return;
    phone.packets++;
    if (!phone.remote) phone.remote = { address: rinfo.address, port: rinfo.port };
  });
  const silence = Buffer.alloc(160, 0xff);
  phone.timer = setInterval(() => {
    if (!phone.remote) return;
    phone.seq = (phone.seq + 1) & 0xffff; phone.ts = (phone.ts + 160) >>> 0;
    sock.send(rtp(0, false, phone.seq, phone.ts, silence), phone.remote.port, phone.remote.address);
  }, 20);
  phone.waitForMedia = async ms => { const end = Date.now() + ms; while (!phone.remote && Date.now() < end) await sleep(20); return !!phone.remote; };
  phone.press = async digit => {
    const event = digit === '*' ? 10 : digit === '#' ? 11 : Number(digit);
    phone.ts = (phone.ts + 160) >>> 0;
    const ts = phone.ts;
    for (let i = 0; i < 8; i++) {
      const end = i >= 5, duration = 160 * (Math.min(i, 4) + 1);
      phone.seq = (phone.seq + 1) & 0xffff;
      sock.send(rtp(101, i === 0, phone.seq, ts, [event, end ? 0x80 | 10 : 10, duration >> 8, duration & 0xff]), phone.remote.port, phone.remote.address);
      await sleep(20);
    }
  };
  phone.close = () => { clearInterval(phone.timer); sock.close(); };
  return phone;
}
export const sleep = ms => new Promise(r => setTimeout(r, ms));
