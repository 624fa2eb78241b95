//! Webhook deliveries of the realm's events: one worker posts them, in order, to every
//! registered URL; fault knobs hold, drop, duplicate or reorder them.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tokio::runtime::Handle;
use tokio::sync::{mpsc, watch};

/// A fault in the realm's next webhook delivery (see `FakeRealm::fail_next_delivery`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum WebhookFault {
    /// Deliver after this much (real) time.
    Delay(Duration),
    /// Keep the delivery until `FakeRealm::release_held`: a late delivery, on the test's
    /// schedule.
    Hold,
    /// Never deliver it (every retry lost).
    Drop,
    /// Deliver it twice in a row.
    Duplicate,
    /// Deliver it after the next event's delivery.
    Reorder,
    /// Deliver it, but the API denies knowing the event (`GET /events/{id}` answers 404):
    /// what a forged delivery looks like to the receiver.
    Unknown,
}

/// One webhook delivery the realm made.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Delivery {
    /// Where it was posted.
    pub url: String,
    /// The event's id `ev_…`.
    pub event_id: String,
    /// The event's type, e.g. `session.deleted`.
    pub event_type: String,
    /// The receiver's answer, `None` when it could not be reached.
    pub status: Option<u16>,
}

impl Delivery {
    /// Whether the receiver answered 2xx (AuthRocket stops retrying).
    pub fn succeeded(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

/// One event for one URL.
#[derive(Debug, Clone)]
struct Job {
    url: String,
    event: Value,
}

/// What the worker made of the jobs: every delivery, and the failed ones to redeliver.
#[derive(Debug, Default)]
struct Log {
    deliveries: Vec<Delivery>,
    failed: Vec<Job>,
}

/// The side of the deliveries that tests read without locking the realm.
#[derive(Debug, Clone)]
pub(super) struct Deliveries {
    log: Arc<Mutex<Log>>,
    done: watch::Receiver<usize>,
}

impl Deliveries {
    pub(super) fn all(&self) -> Vec<Delivery> {
        self.log.lock().expect("webhook log").deliveries.clone()
    }

    /// Wait until `n` deliveries are done (answered or failed); panics after 10 seconds.
    pub(super) async fn wait_for(&self, n: usize) -> Vec<Delivery> {
        let mut done = self.done.clone();
        let reached = tokio::time::timeout(Duration::from_secs(10), done.wait_for(|d| *d >= n));
        match reached.await {
            Ok(Ok(_)) => self.all(),
            _ => panic!(
                "fake realm: {n} webhook deliveries expected, {} made",
                self.all().len()
            ),
        }
    }
}

/// Where and how events are delivered.
#[derive(Debug)]
pub(super) struct Webhooks {
    targets: Vec<String>,
    faults: VecDeque<WebhookFault>,
    held: Vec<Job>,
    reordered: Vec<Job>,
    queue: mpsc::UnboundedSender<Job>,
    log: Arc<Mutex<Log>>,
    runtime: Handle,
}

impl Webhooks {
    /// Start the delivery worker on the current runtime.
    pub(super) fn start() -> (Self, Deliveries) {
        let (queue, jobs) = mpsc::unbounded_channel();
        let (done_tx, done) = watch::channel(0);
        let log = Arc::new(Mutex::new(Log::default()));
        let runtime = Handle::current();
        runtime.spawn(deliver(jobs, Arc::clone(&log), done_tx));
        let deliveries = Deliveries {
            log: Arc::clone(&log),
            done,
        };
        let hooks = Self {
            targets: Vec::new(),
            faults: VecDeque::new(),
            held: Vec::new(),
            reordered: Vec::new(),
            queue,
            log,
            runtime,
        };
        (hooks, deliveries)
    }

    pub(super) fn add_target(&mut self, url: String) {
        self.targets.push(url);
    }

    pub(super) fn fail_next(&mut self, fault: WebhookFault) {
        self.faults.push_back(fault);
    }

    /// Deliver `event` to every target, as the next fault says. Returns whether the API is
    /// to deny knowing the event.
    pub(super) fn emit(&mut self, event: &Value) -> bool {
        let jobs: Vec<Job> = self
            .targets
            .iter()
            .map(|url| Job {
                url: url.clone(),
                event: event.clone(),
            })
            .collect();
        match self.faults.pop_front() {
            None => self.send(jobs),
            Some(WebhookFault::Delay(wait)) => {
                let queue = self.queue.clone();
                self.runtime.spawn(async move {
                    tokio::time::sleep(wait).await;
                    for job in jobs {
                        let _ = queue.send(job);
                    }
                });
            }
            Some(WebhookFault::Hold) => self.held.extend(jobs),
            Some(WebhookFault::Drop) => {}
            Some(WebhookFault::Duplicate) => {
                self.send(jobs.clone());
                self.send(jobs);
            }
            Some(WebhookFault::Reorder) => self.reordered.extend(jobs),
            Some(WebhookFault::Unknown) => {
                self.send(jobs);
                return true;
            }
        }
        false
    }

    /// Deliver the held deliveries now.
    pub(super) fn release_held(&mut self) {
        let held = std::mem::take(&mut self.held);
        self.send(held);
    }

    /// Deliver again every delivery that has failed so far (AuthRocket's retry).
    pub(super) fn redeliver_failed(&mut self) {
        let failed = std::mem::take(&mut self.log.lock().expect("webhook log").failed);
        self.send(failed);
    }

    /// Queue `jobs`, then any delivery waiting to come after them.
    fn send(&mut self, jobs: Vec<Job>) {
        let after = std::mem::take(&mut self.reordered);
        for job in jobs.into_iter().chain(after) {
            let _ = self.queue.send(job);
        }
    }
}

/// The worker: post each job in turn, record the answer.
async fn deliver(
    mut jobs: mpsc::UnboundedReceiver<Job>,
    log: Arc<Mutex<Log>>,
    done: watch::Sender<usize>,
) {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .user_agent("authrocket-testkit webhooks")
        .build()
        .expect("webhook client");
    while let Some(job) = jobs.recv().await {
        let status = client
            .post(&job.url)
            .header("content-type", "application/json")
            .body(job.event.to_string())
            .send()
            .await
            .ok()
            .map(|r| r.status().as_u16());
        let text = |field: &str| job.event[field].as_str().unwrap_or_default().to_owned();
        let delivery = Delivery {
            url: job.url.clone(),
            event_id: text("id"),
            event_type: text("event_type"),
            status,
        };
        {
            let mut log = log.lock().expect("webhook log");
            if !delivery.succeeded() {
                log.failed.push(job);
            }
            log.deliveries.push(delivery);
        }
        done.send_modify(|d| *d += 1);
    }
}
