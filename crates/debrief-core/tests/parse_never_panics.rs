//! Parsers of what people type never panic, whatever the input: they return a value or an error.

use debrief_core::{Actor, Key, Moment, Severity, Title, Zone};
use proptest::prelude::*;

proptest! {
    #[test]
    fn moment_parse_never_panics(input in "\\PC{0,40}") {
        let _ = Moment::parse(&input, &Zone::utc());
    }

    #[test]
    fn moment_parse_of_near_times_never_panics(
        input in "[0-9]{4}-[0-9]{2}-[0-9]{2}[ T]?[0-9:.]{0,12}[+-Z]?[0-9:]{0,5}(\\[[A-Za-z/_]{0,20}\\])?"
    ) {
        let _ = Moment::parse(&input, &Zone::utc());
    }

    #[test]
    fn value_parsers_never_panic(input in "\\PC{0,30}") {
        let _ = input.parse::<Key>();
        let _ = input.parse::<Severity>();
        let _ = input.parse::<Title>();
        let _ = input.parse::<Zone>();
        let _ = Actor::parse(&input);
    }

    #[test]
    fn a_rendered_moment_parses_back(secs in 946_684_800i64..2_208_988_800, nanos in 0i32..1_000_000_000, zone in 0usize..4) {
        let zones = ["UTC", "Europe/Berlin", "America/Los_Angeles", "+05:30"];
        let zone: Zone = zones[zone].parse().expect("zone");
        let at = jiff::Timestamp::new(secs, nanos - nanos % 1000).expect("instant");
        for precision in debrief_core::Precision::ALL {
            let m = Moment::new(at, zone.clone(), precision).expect("moment");
            prop_assert_eq!(Moment::parse(&m.display_local(), &zone).expect("parse"), m);
        }
    }
}
