//! A fixed pool of worker threads whose results are consumed in input order.
//!
//! Each item gets a bounded channel for its results. Workers take items in
//! order from a bounded queue and stream results into the item's channel;
//! the caller drains the channels in item order. A worker ahead of the
//! consumer blocks once its channel is full, so memory stays bounded by
//! `workers × capacity` messages however large or many the inputs are, and
//! no thread is spawned per item.

use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread;

/// Runs `work` on every item with `workers` threads. `work(item, tx)` sends
/// the item's results on `tx` (blocking while its channel is full);
/// `consume(index, rx)` receives them, called for items in order.
pub fn run_ordered<T, R, W, C>(
    items: Vec<T>,
    workers: usize,
    capacity: usize,
    work: W,
    mut consume: C,
) where
    T: Send,
    R: Send,
    W: Fn(T, SyncSender<R>) + Sync,
    C: FnMut(usize, Receiver<R>),
{
    let workers = workers.max(1);
    let mut receivers = Vec::with_capacity(items.len());
    let mut jobs = Vec::with_capacity(items.len());
    for item in items {
        let (tx, rx) = sync_channel(capacity.max(1));
        receivers.push(rx);
        jobs.push((item, tx));
    }
    let (queue_tx, queue_rx) = sync_channel::<(T, SyncSender<R>)>(workers);
    let queue_rx = Arc::new(Mutex::new(queue_rx));
    thread::scope(|scope| {
        for _ in 0..workers {
            let queue_rx = Arc::clone(&queue_rx);
            let work = &work;
            scope.spawn(move || {
                loop {
                    // Hold the lock only while taking the next job.
                    let job = match queue_rx.lock() {
                        Ok(rx) => rx.recv(),
                        Err(_) => return,
                    };
                    let Ok((item, tx)) = job else { return };
                    work(item, tx);
                }
            });
        }
        scope.spawn(move || {
            for job in jobs {
                if queue_tx.send(job).is_err() {
                    return;
                }
            }
        });
        for (index, rx) in receivers.into_iter().enumerate() {
            consume(index, rx);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    #[test]
    fn results_arrive_in_item_order_whatever_the_finishing_order() {
        let items: Vec<u64> = (0..20).collect();
        let mut seen = Vec::new();
        run_ordered(
            items,
            4,
            2,
            |n, tx| {
                // Early items take longest, so later ones finish first.
                thread::sleep(Duration::from_millis(20u64.saturating_sub(n)));
                for part in 0..3 {
                    let _ = tx.send((n, part));
                }
            },
            |index, rx| {
                for (n, part) in rx {
                    assert_eq!(n as usize, index);
                    seen.push((n, part));
                }
            },
        );
        let expected: Vec<(u64, i32)> = (0..20).flat_map(|n| (0..3).map(move |p| (n, p))).collect();
        assert_eq!(seen, expected);
    }

    #[test]
    fn no_more_threads_than_workers_run_at_once() {
        let running = AtomicUsize::new(0);
        let peak = AtomicUsize::new(0);
        run_ordered(
            (0..16).collect::<Vec<_>>(),
            3,
            1,
            |_, tx: SyncSender<()>| {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(now, Ordering::SeqCst);
                thread::sleep(Duration::from_millis(5));
                running.fetch_sub(1, Ordering::SeqCst);
                drop(tx);
            },
            |_, rx| for _ in rx {},
        );
        assert!(peak.load(Ordering::SeqCst) <= 3);
    }
}
