//! G.711 µ-law (PCMU, payload type 0).

const BIAS: i32 = 0x84;
const CLIP: i32 = 32635;

/// Decode table built at compile time: one entry per code.
static DECODE: [i16; 256] = build_decode();

const fn build_decode() -> [i16; 256] {
    let mut t = [0i16; 256];
    let mut i = 0;
    while i < 256 {
        let u = !(i as u8);
        let sign = u & 0x80;
        let exponent = ((u >> 4) & 0x07) as i32;
        let mantissa = (u & 0x0F) as i32;
        let mag = (((mantissa << 3) + BIAS) << exponent) - BIAS;
        t[i] = if sign != 0 { -mag as i16 } else { mag as i16 };
        i += 1;
    }
    t
}

/// Decodes one µ-law byte to a linear 16-bit sample.
#[inline]
pub fn decode(code: u8) -> i16 {
    DECODE[code as usize]
}

/// Encodes one linear 16-bit sample to µ-law.
#[inline]
pub fn encode(sample: i16) -> u8 {
    let mut s = sample as i32;
    let sign = if s < 0 {
        s = -s;
        0x80
    } else {
        0
    };
    if s > CLIP {
        s = CLIP;
    }
    s += BIAS;
    // Position of the highest set bit above bit 7 gives the segment.
    let exponent = (31 - (s as u32).leading_zeros() as i32 - 7).clamp(0, 7);
    let mantissa = (s >> (exponent + 3)) & 0x0F;
    !((sign | (exponent << 4) | mantissa) as u8)
}
