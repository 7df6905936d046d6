//! Choosing an owner: fixed, by table, round robin, least loaded, stable hash.

use super::hash;
use super::run::Run;
use crate::ruleset::CompiledAssignment;
use crate::value::Value;

impl Run<'_, '_> {
    /// The chosen user and the strategy's name; `None` only for an empty pool, which the
    /// compiler refuses.
    pub(crate) fn assign(
        &mut self,
        strategy: &CompiledAssignment,
    ) -> Option<(String, &'static str)> {
        match strategy {
            CompiledAssignment::Fixed(user) => Some((user.clone(), "fixed")),
            CompiledAssignment::Table {
                field,
                map,
                default,
            } => {
                let user = match self.record.get(*field) {
                    Value::Text(key) => map.iter().find(|(k, _)| k == key).map(|(_, u)| u.clone()),
                    _ => None,
                };
                Some((user.unwrap_or_else(|| default.clone()), "table"))
            }
            CompiledAssignment::RoundRobin(pool) => {
                let key = pool.join(",");
                let counter = match self.plan.counters.iter().find(|(k, _)| *k == key) {
                    Some((_, c)) => *c,
                    None => self.input.context.counters.get(&key).copied().unwrap_or(0),
                };
                let user = pool
                    .get((counter % pool.len().max(1) as u64) as usize)?
                    .clone();
                let next = counter.wrapping_add(1);
                match self.plan.counters.iter_mut().find(|(k, _)| *k == key) {
                    Some(entry) => entry.1 = next,
                    None => self.plan.counters.push((key, next)),
                }
                Some((user, "round_robin"))
            }
            CompiledAssignment::LeastLoaded(pool) => {
                let load = |run: &Self, u: &String| {
                    let base = u64::from(run.input.context.loads.get(u).copied().unwrap_or(0));
                    let added = run
                        .assigned
                        .iter()
                        .find(|(a, _)| a == u)
                        .map_or(0, |(_, n)| u64::from(*n));
                    base + added
                };
                // The least loaded; ties go to the first in the pool.
                let user = pool.iter().min_by_key(|u| load(self, u))?.clone();
                match self.assigned.iter_mut().find(|(a, _)| *a == user) {
                    Some(entry) => entry.1 += 1,
                    None => self.assigned.push((user.clone(), 1)),
                }
                Some((user, "least_loaded"))
            }
            CompiledAssignment::Hash(pool) => {
                let key = pool.join(",");
                let b = hash::bucket(
                    &[self.input.customer_id.as_bytes(), key.as_bytes()],
                    pool.len() as u64,
                );
                Some((pool.get(b as usize)?.clone(), "hash"))
            }
        }
    }
}
