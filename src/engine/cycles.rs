//! Finding possible cycles between rules when the engine is built.

use std::collections::BTreeSet;

use super::Warning;
use crate::ruleset::{CompiledAction, CompiledRules};
use crate::schema::{FieldId, Schema};

/// The fields an action list may write, nested actions included.
fn writes(actions: &[CompiledAction], out: &mut BTreeSet<FieldId>) {
    for a in actions {
        match a {
            CompiledAction::SetField { field, .. }
            | CompiledAction::Increment { field, .. }
            | CompiledAction::AddTag { field, .. }
            | CompiledAction::RemoveTag { field, .. }
            | CompiledAction::AssignOwner { field, .. } => {
                out.insert(*field);
            }
            CompiledAction::StartSequence { steps, .. } => {
                steps.iter().for_each(|s| writes(&s.actions, out))
            }
            CompiledAction::AbSplit { variants, .. } => {
                variants.iter().for_each(|v| writes(&v.actions, out))
            }
            _ => {}
        }
    }
}

/// Every strongly connected group of rules (or a rule triggering itself) in the graph
/// "rule A writes a field whose change triggers rule B", in rule-set order.
pub(crate) fn find(rules: &CompiledRules, schema: &Schema) -> Vec<Warning> {
    let n = rules.rules.len();
    let written: Vec<BTreeSet<FieldId>> = rules
        .rules
        .iter()
        .map(|r| {
            let mut out = BTreeSet::new();
            writes(&r.actions, &mut out);
            out
        })
        .collect();
    let edges: Vec<Vec<u32>> = written
        .iter()
        .map(|fields| {
            let mut next: Vec<u32> = fields
                .iter()
                .flat_map(|f| rules.by_field[f.index()].iter().copied())
                .collect();
            next.sort_unstable();
            next.dedup();
            next
        })
        .collect();
    // Tarjan's algorithm, iterative so that long chains cannot overflow the stack.
    let mut index = vec![u32::MAX; n];
    let mut low = vec![0u32; n];
    let mut on_stack = vec![false; n];
    let mut stack: Vec<u32> = Vec::new();
    let mut counter = 0u32;
    let mut components: Vec<Vec<u32>> = Vec::new();
    for start in 0..n as u32 {
        if index[start as usize] != u32::MAX {
            continue;
        }
        let mut work: Vec<(u32, usize)> = vec![(start, 0)];
        while let Some(&mut (v, ref mut next)) = work.last_mut() {
            let vi = v as usize;
            if *next == 0 && index[vi] == u32::MAX {
                index[vi] = counter;
                low[vi] = counter;
                counter += 1;
                stack.push(v);
                on_stack[vi] = true;
            }
            if let Some(&w) = edges[vi].get(*next) {
                *next += 1;
                let wi = w as usize;
                if index[wi] == u32::MAX {
                    work.push((w, 0));
                } else if on_stack[wi] {
                    low[vi] = low[vi].min(index[wi]);
                }
                continue;
            }
            work.pop();
            if let Some(&(parent, _)) = work.last() {
                low[parent as usize] = low[parent as usize].min(low[vi]);
            }
            if low[vi] == index[vi] {
                let mut component = Vec::new();
                while let Some(w) = stack.pop() {
                    on_stack[w as usize] = false;
                    component.push(w);
                    if w == v {
                        break;
                    }
                }
                let cyclic = component.len() > 1 || edges[vi].contains(&v);
                if cyclic {
                    component.sort_unstable();
                    components.push(component);
                }
            }
        }
    }
    components.sort();
    components
        .into_iter()
        .map(|component| {
            let mut fields = BTreeSet::new();
            for &r in &component {
                for f in &written[r as usize] {
                    let triggers_member = rules.by_field[f.index()]
                        .iter()
                        .any(|t| component.contains(t));
                    if triggers_member {
                        fields.insert(*f);
                    }
                }
            }
            Warning {
                rules: component
                    .iter()
                    .map(|r| rules.rules[*r as usize].id.clone())
                    .collect(),
                fields: fields
                    .iter()
                    .filter_map(|f| schema.field(*f).map(|d| d.name.clone()))
                    .collect(),
            }
        })
        .collect()
}
