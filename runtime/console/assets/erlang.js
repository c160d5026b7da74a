// Erlang C, a line-by-line port of runtime/acd/src/erlang_c.rs (same formulas, same stopping
// rule), so the staffing page agrees with the ACD. Traffic = calls/h × AHT / 3600.
export const trafficErlangs = (callsPerHour, ahtS) => callsPerHour * ahtS / 3600;
export function probabilityWait(agents, a) {
  if (a <= 0) return 0;
  if (agents <= a) return 1;
  let b = 1;
  for (let k = 1; k <= agents; k++) b = a * b / (k + a * b);
  return agents * b / (agents - a * (1 - b));
}
export function serviceLevel(agents, a, ahtS, thresholdS) {
  if (a <= 0) return 1;
  if (agents <= a) return 0;
  return 1 - probabilityWait(agents, a) * Math.exp(-(agents - a) * thresholdS / ahtS);
}
export function averageSpeedOfAnswer(agents, a, ahtS) {
  if (agents <= a) return Infinity;
  return probabilityWait(agents, a) * ahtS / (agents - a);
}
export function agentsNeeded(callsPerHour, ahtS, targetSl, thresholdS) {
  const a = trafficErlangs(callsPerHour, ahtS);
  if (a <= 0 || ahtS <= 0) return 0;
  const target = Math.min(Math.max(targetSl, 0), 0.999999);
  let n = Math.floor(a) + 1;
  while (serviceLevel(n, a, ahtS, thresholdS) < target) n++;
  return n;
}
