//! The session API's answer: parsed, checked against what was asked, turned into a session.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    authrocket_verify::fuzzing::session_answer(data);
});
