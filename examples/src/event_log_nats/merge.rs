//! Events arriving interleaved from several subjects, put into one order by wall clock and
//! one by hybrid timestamp with two [`Reorderer`]s. Pure: time is an input.

use std::collections::HashMap;
use std::time::Instant;

use hlc_core::merge::{PushError, ReorderConfig, Reorderer, Stamped};
use hlc_core::{NodeId, NodeTimestamp};

use crate::event_log::{Entry, Event, Order};

/// An entry with the key one order sorts it by.
struct Keyed {
    key: NodeTimestamp,
    entry: Entry,
}

impl Stamped for Keyed {
    fn stamp(&self) -> NodeTimestamp {
        self.key
    }
}

/// An event that arrived after its order had passed it: kept out of that order, reported.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Late {
    /// The order it came too late for.
    pub order: Order,
    /// The event.
    pub entry: Entry,
    /// The last key that order had released.
    pub frontier: NodeTimestamp,
}

/// One order being built.
struct Lane {
    order: Order,
    reorderer: Reorderer<Keyed>,
    released: Vec<Entry>,
}

impl Lane {
    fn push(&mut self, entry: Entry, now: Instant, late: &mut Vec<Late>) {
        let mut keyed = Keyed {
            key: self.order.key(&entry),
            entry,
        };
        loop {
            match self.reorderer.push(keyed, now) {
                Ok(()) => break,
                Err(PushError::Late {
                    event, frontier, ..
                }) => {
                    late.push(Late {
                        order: self.order,
                        entry: event.entry,
                        frontier,
                    });
                    break;
                }
                // A full buffer releases its least event on `pop`; then there is room.
                Err(full) => {
                    keyed = full.into_event();
                    self.pop(now);
                }
            }
        }
        self.pop(now);
    }

    fn pop(&mut self, now: Instant) {
        while let Some(keyed) = self.reorderer.pop(now) {
            self.released.push(keyed.entry);
        }
    }
}

/// Puts events from every node into the two orders as they arrive.
pub struct Merger {
    lanes: [Lane; 2],
    late: Vec<Late>,
}

impl Merger {
    /// Expects events from `nodes`, each silent since `now`.
    pub fn new(
        config: ReorderConfig,
        nodes: impl IntoIterator<Item = NodeId> + Clone,
        now: Instant,
    ) -> Self {
        let lane = |order| Lane {
            order,
            reorderer: Reorderer::new(config, nodes.clone(), now),
            released: Vec::new(),
        };
        Self {
            lanes: [lane(Order::WallClock), lane(Order::Hlc)],
            late: Vec::new(),
        }
    }

    /// Takes in an event that arrived at `now`, releasing whatever the orders can release.
    pub fn push(&mut self, entry: Entry, now: Instant) {
        let [wall, hlc] = &mut self.lanes;
        wall.push(entry.clone(), now, &mut self.late);
        hlc.push(entry, now, &mut self.late);
    }

    /// Releases whatever silence at `now` lets through (call it by the deadline when nothing
    /// arrives).
    pub fn tick(&mut self, now: Instant) {
        self.lanes.iter_mut().for_each(|lane| lane.pop(now));
    }

    /// Every source has finished: releases what still waits and returns both orders.
    pub fn finish(mut self) -> MergedLog {
        for lane in &mut self.lanes {
            let rest: Vec<_> = lane.reorderer.flush().map(|keyed| keyed.entry).collect();
            lane.released.extend(rest);
        }
        let [wall, hlc] = self.lanes;
        MergedLog {
            wall_clock: wall.released,
            hlc: hlc.released,
            late: self.late,
        }
    }
}

/// The merged log in both orders, with the events that came too late for them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MergedLog {
    /// Every event in time, by wall clock.
    pub wall_clock: Vec<Entry>,
    /// Every event in time, by hybrid timestamp.
    pub hlc: Vec<Entry>,
    /// Events kept out of an order because they arrived after it had passed them.
    pub late: Vec<Late>,
}

impl MergedLog {
    /// The events in `order`.
    pub fn entries(&self, order: Order) -> &[Entry] {
        match order {
            Order::WallClock => &self.wall_clock,
            Order::Hlc => &self.hlc,
        }
    }

    /// The messages whose receipt comes before their sending in `order`. A message with
    /// one of the two late is not judged here: it is in [`late`](Self::late).
    pub fn causal_violations(&self, order: Order) -> Vec<u32> {
        let entries = self.entries(order);
        let mut sent_at = HashMap::new();
        for (position, entry) in entries.iter().enumerate() {
            if let Event::Send { message, .. } = entry.event {
                sent_at.insert(message, position);
            }
        }
        let mut violations = Vec::new();
        for (position, entry) in entries.iter().enumerate() {
            if let Event::Receive { message, .. } = entry.event {
                if sent_at.get(&message).is_some_and(|&sent| sent > position) {
                    violations.push(message);
                }
            }
        }
        violations
    }

    /// The late events for `order`.
    pub fn late_for(&self, order: Order) -> impl Iterator<Item = &Late> {
        self.late.iter().filter(move |late| late.order == order)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hlc_core::Timestamp;
    use std::time::Duration;

    fn entry(node: u64, micros: u64, wall: u64, event: Event) -> Entry {
        Entry {
            hlc: NodeTimestamp::new(Timestamp::from_physical_micros(micros), NodeId::new(node)),
            wall_micros: wall,
            node: format!("n{node}"),
            event,
        }
    }

    fn send(message: u32) -> Event {
        Event::Send {
            message,
            to: "n2".into(),
        }
    }

    fn receive(message: u32) -> Event {
        Event::Receive {
            message,
            from: "n1".into(),
        }
    }

    fn nodes() -> impl Iterator<Item = NodeId> + Clone {
        [NodeId::new(1), NodeId::new(2)].into_iter()
    }

    #[test]
    fn arrivals_out_of_order_come_out_in_each_order() {
        let start = Instant::now();
        let mut merger = Merger::new(ReorderConfig::new(), nodes(), start);
        // Node 2's clock runs 50 µs behind: its receipt reads earlier on the wall.
        merger.push(entry(2, 11, 60, receive(1)), start);
        merger.push(entry(1, 10, 100, send(1)), start);
        let log = merger.finish();
        assert_eq!(log.causal_violations(Order::Hlc), Vec::<u32>::new());
        assert_eq!(log.causal_violations(Order::WallClock), [1]);
        assert_eq!(log.hlc.len(), 2);
        assert!(log.late.is_empty());
    }

    #[test]
    fn an_event_after_its_place_has_gone_is_reported_late_not_dropped() {
        let start = Instant::now();
        let config = ReorderConfig::new().with_max_delay(Duration::from_millis(100));
        let mut merger = Merger::new(config, nodes(), start);
        merger.push(entry(1, 10, 10, send(1)), start);
        merger.push(entry(1, 30, 30, send(2)), start);
        // Node 2 stays silent past the max delay: node 1's events go out without it.
        let silent = start + Duration::from_millis(101);
        merger.tick(silent);
        merger.push(entry(2, 20, 20, receive(1)), silent);
        let log = merger.finish();
        assert_eq!(log.late.len(), 2, "late for both orders: {:?}", log.late);
        assert_eq!(log.late_for(Order::Hlc).count(), 1);
        let late = log.late_for(Order::Hlc).next().unwrap();
        assert_eq!(late.entry.event, receive(1));
        assert_eq!(late.frontier.timestamp, Timestamp::from_physical_micros(30));
        assert_eq!(log.hlc.len(), 2);
    }

    #[test]
    fn a_full_buffer_releases_its_least_event_and_keeps_everything() {
        let start = Instant::now();
        let config = ReorderConfig::new().with_capacity(1);
        let mut merger = Merger::new(config, nodes(), start);
        for micros in [10, 20, 30] {
            merger.push(entry(1, micros, micros, send(micros as u32)), start);
        }
        let log = merger.finish();
        assert_eq!(log.hlc.len() + log.late_for(Order::Hlc).count(), 3);
        assert_eq!(log.hlc.len(), 3);
    }
}
