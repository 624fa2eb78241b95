//! An event: the webhook delivery's id, and the API's copy of the event and its effect.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    authrocket_verify::fuzzing::event(data);
});
