//! Words the benchmarks' generated events are titled with (two of them and a number), shared so
//! the month and the search benchmarks describe the same kind of calendar.

pub const WORDS: [&str; 16] = [
    "Standup",
    "Review",
    "Planning",
    "Lunch",
    "Dentist",
    "Sync",
    "Retro",
    "Call",
    "Workshop",
    "Interview",
    "Gym",
    "Dinner",
    "1:1",
    "Demo",
    "Budget",
    "Offsite",
];
