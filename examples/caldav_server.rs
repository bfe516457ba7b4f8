//! A CalDAV server for the end-to-end benchmarks (`benches/costs.sh`): the built-in emulator with one
//! calendar holding every item of an `.ics` file, on a loopback port, until it is killed.
//!
//! usage: cargo run --release --example caldav_server -- FILE.ics URL_FILE
//! Writes the server's base URL to URL_FILE once every item is in; user `bench`, password `bench`.

use almanac::domain::read_calendar;
use almanac::emulator::caldav::CalDavEmulator;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [file, url_file] = args.as_slice() else {
        return Err("usage: caldav_server FILE.ics URL_FILE".into());
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let emu = runtime.block_on(CalDavEmulator::start("bench", "bench"))?;
    emu.add_calendar("bench", "Bench", None);
    let parsed = read_calendar(&std::fs::read_to_string(file)?);
    for (n, item) in parsed.items.iter().enumerate() {
        emu.put("bench", &format!("item-{n}.ics"), &item.raw);
    }
    std::fs::write(url_file, emu.base_url())?;
    loop {
        std::thread::sleep(std::time::Duration::from_secs(3600));
    }
}
