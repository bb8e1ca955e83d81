//! The budget of one chart render: steps, output bytes and the size of any one value
//! ([`crate::limits::Limits`]: `release.renderMaxSteps`, `release.renderMaxOutput`,
//! `release.renderMaxValue`).
//!
//! Go's `text/template` has no such bounds (Helm stops only recursive includes), so a template
//! like `{{ repeat 1000000000 "x" }}` or three nested `range until 2000` takes Helm down. Ours
//! stops with the documented per-chart render failure instead, naming `templates/x.yaml:LINE`:
//!
//! - every action, every loop iteration (empty or not) and every node of a value walked by a
//!   printer, copier or comparer is one step; a function's string or list result costs one
//!   step per 64 bytes or 4 items it holds (copying is work too; dicts change in place);
//! - bytes written by the chart's templates count against the output budget;
//! - a function that would build a string or collection larger than the value budget is refused
//!   before it allocates (`repeat`, `printf` widths, `indent`, `until`, `replace`, `join`,
//!   `concat`, …), and every result is measured after the call;
//! - walks of values nest at most [`MAX_NESTING`] deep (a dict that holds itself);
//! - the bytes the render holds (counted by the allocator, [`crate::memory`]) are checked at every
//!   step: a loop that keeps what it builds (`$d = dict "a" $d`) stops there.
//!
//! The budget lives in a thread-local installed by [`scope`] for one chart (each chart renders on
//! one thread), so the deep helpers (`toYaml` of a self-doubling dict) can charge it without
//! threading it through every signature: a walker calls [`enter`] per node and stops early when it
//! answers `None`; the executor then turns [`exceeded`] into the template's error.

use std::cell::RefCell;

use crate::limits::{human, Limits};

/// How deep a printed, copied or compared value may nest.
pub const MAX_NESTING: usize = 1000;

/// The bytes a list item or dict entry counts for against the value budget (a dict's keys are
/// strings, measured when they were made).
pub const ITEM_BYTES: u64 = 16;

struct State {
    limits: Limits,
    steps: u64,
    output: u64,
    depth: usize,
    /// [`crate::memory::held`] when the scope began.
    held_at_start: i64,
    exceeded: Option<String>,
}

impl State {
    fn new(limits: Limits) -> Self {
        State {
            limits,
            steps: 0,
            output: 0,
            depth: 0,
            held_at_start: crate::memory::held(),
            exceeded: None,
        }
    }
}

thread_local! {
    static STATE: RefCell<State> = RefCell::new(State::new(Limits::DEFAULT));
}

/// Run `f` under a fresh budget of `limits` (one chart render), restoring the outer one after
/// (also when `f` panics).
pub fn scope<T>(limits: Limits, f: impl FnOnce() -> T) -> T {
    struct Restore(Option<State>);
    impl Drop for Restore {
        fn drop(&mut self) {
            if let Some(s) = self.0.take() {
                STATE.with(|st| *st.borrow_mut() = s);
            }
        }
    }
    let saved = STATE.with(|s| s.replace(State::new(limits)));
    let _restore = Restore(Some(saved));
    f()
}

fn with<T>(f: impl FnOnce(&mut State) -> T) -> T {
    STATE.with(|s| f(&mut s.borrow_mut()))
}

/// Count one step: the step budget, and the memory the render holds (checked every step: a
/// single large allocation is refused before it is made, by [`value`]).
fn count(s: &mut State, n: u64) -> Option<String> {
    s.steps = s.steps.saturating_add(n);
    if s.steps > s.limits.render_steps {
        return Some(steps_message(&s.limits));
    }
    let held = crate::memory::held() - s.held_at_start;
    if held > s.limits.render_memory_bytes as i64 {
        return Some(format!(
            "render budget exceeded: the render holds more than {} (release.renderMaxMemory raises it)",
            human(s.limits.render_memory_bytes)
        ));
    }
    None
}

fn steps_message(l: &Limits) -> String {
    format!(
        "render budget exceeded: more than {} steps (an endless or huge loop?; release.renderMaxSteps raises it)",
        l.render_steps
    )
}

/// Charge `n` steps.
///
/// Errors: the step budget is spent (the message names the setting that raises it).
pub fn steps(n: u64) -> Result<(), String> {
    with(|s| {
        if let Some(e) = &s.exceeded {
            return Err(e.clone());
        }
        if let Some(e) = count(s, n) {
            s.exceeded = Some(e.clone());
            return Err(e);
        }
        Ok(())
    })
}

/// Charge `n` bytes written by a template to the chart's output.
///
/// Errors: the output budget is spent.
pub fn output(n: usize) -> Result<(), String> {
    with(|s| {
        s.output = s.output.saturating_add(n as u64);
        if s.output > s.limits.render_output_bytes {
            let e = format!(
                "render budget exceeded: the chart's templates wrote more than {} (release.renderMaxOutput raises it)",
                human(s.limits.render_output_bytes)
            );
            s.exceeded = Some(e.clone());
            return Err(e);
        }
        Ok(())
    })
}

/// Check that a value of `bytes` bytes (a string's length, or [`ITEM_BYTES`] an item) may exist,
/// before it is built.
///
/// Errors: it is larger than the value budget.
pub fn value(bytes: u64) -> Result<(), String> {
    with(|s| {
        if bytes > s.limits.render_value_bytes {
            let e = format!(
                "render budget exceeded: a value of {} bytes, more than the {} one value may have (release.renderMaxValue raises it)",
                bytes,
                human(s.limits.render_value_bytes)
            );
            s.exceeded = Some(e.clone());
            return Err(e);
        }
        Ok(())
    })
}

/// [`value`] of `items` list items or dict entries.
///
/// Errors: as [`value`].
pub fn items(items: usize) -> Result<(), String> {
    value((items as u64).saturating_mul(ITEM_BYTES))
}

/// A walker's hold on one level of a value: dropping it leaves the level.
pub struct Level(());

impl Drop for Level {
    fn drop(&mut self) {
        with(|s| s.depth = s.depth.saturating_sub(1));
    }
}

/// Enter one node of a value being walked (printed, serialized, copied, compared): one step and
/// one level. `None` once any budget is spent or the value nests more than [`MAX_NESTING`] deep;
/// the walker then returns at once with whatever it has, and the executor reports
/// [`exceeded`].
#[must_use]
pub fn enter() -> Option<Level> {
    with(|s| {
        if s.exceeded.is_some() {
            return None;
        }
        if let Some(e) = count(s, 1) {
            s.exceeded = Some(e);
            return None;
        }
        if s.depth >= MAX_NESTING {
            s.exceeded = Some(format!(
                "render budget exceeded: a value nested more than {MAX_NESTING} deep (a dict or list that holds itself?)"
            ));
            return None;
        }
        s.depth += 1;
        Some(Level(()))
    })
}

/// Why the budget was exceeded, if it was (a walker that stopped early leaves the reason here).
pub fn exceeded() -> Option<String> {
    with(|s| s.exceeded.clone())
}

/// Steps spent so far in this scope (for tests and benchmarks).
#[cfg(test)]
pub fn spent() -> u64 {
    with(|s| s.steps)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_budget_trips_and_stays_tripped() {
        let small = Limits {
            render_steps: 10,
            render_output_bytes: 100,
            render_value_bytes: 64,
            ..Limits::DEFAULT
        };
        scope(small, || {
            assert!(steps(10).is_ok());
            assert!(steps(1).unwrap_err().contains("more than 10 steps"));
            assert!(enter().is_none());
            assert!(exceeded().is_some());
        });
        scope(small, || {
            assert!(output(100).is_ok());
            assert!(output(1).unwrap_err().contains("wrote more than 100 bytes"));
        });
        scope(small, || {
            assert!(value(64).is_ok());
            assert!(items(5).unwrap_err().contains("a value of 80 bytes"));
        });
        scope(small, || {
            let mut held = Vec::new();
            for _ in 0..9 {
                held.push(enter().expect("within budget"));
            }
            assert_eq!(with(|s| s.depth), 9);
            drop(held);
            assert_eq!(with(|s| s.depth), 0);
            assert_eq!(spent(), 9);
        });
        // The outer budget is back, untouched.
        assert!(exceeded().is_none());
    }
}
