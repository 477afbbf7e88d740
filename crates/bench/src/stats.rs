use std::time::Duration;

/// The q-th quantile (0..=1) of the samples, in milliseconds (nearest rank).
pub fn quantile_ms(samples: &mut [Duration], q: f64) -> f64 {
    assert!(!samples.is_empty(), "no samples");
    samples.sort_unstable();
    let rank = ((q * samples.len() as f64).ceil() as usize).clamp(1, samples.len());
    samples[rank - 1].as_secs_f64() * 1000.0
}

pub fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}
