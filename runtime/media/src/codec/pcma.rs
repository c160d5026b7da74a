//! G.711 A-law (PCMA, payload type 8).

/// Decode table built at compile time: one entry per code.
static DECODE: [i16; 256] = build_decode();

const fn build_decode() -> [i16; 256] {
    let mut t = [0i16; 256];
    let mut i = 0;
    while i < 256 {
        let a = (i as u8) ^ 0x55;
        let exponent = ((a & 0x70) >> 4) as i32;
        let mantissa = (a & 0x0F) as i32;
        let mag = if exponent == 0 {
            (mantissa << 4) + 8
        } else {
            ((mantissa << 4) + 0x108) << (exponent - 1)
        };
        t[i] = if a & 0x80 != 0 { mag as i16 } else { -mag as i16 };
        i += 1;
    }
    t
}

/// Decodes one A-law byte to a linear 16-bit sample.
#[inline]
pub fn decode(code: u8) -> i16 {
    DECODE[code as usize]
}

/// Encodes one linear 16-bit sample to A-law.
#[inline]
pub fn encode(sample: i16) -> u8 {
    let s = sample as i32;
    let (sign, mut mag) = if s >= 0 { (0x80, s) } else { (0x00, -s - 1) };
    if mag > 0x7FFF {
        mag = 0x7FFF;
    }
    let code = if mag < 256 {
        (mag >> 4) as u8
    } else {
        // Segment = position of the highest bit, from 1 (256..511) to 7.
        let exponent = (31 - (mag as u32).leading_zeros() as i32 - 7).clamp(1, 7);
        let mantissa = (mag >> (exponent + 3)) & 0x0F;
        ((exponent << 4) | mantissa) as u8
    };
    (code | sign) ^ 0x55
}
