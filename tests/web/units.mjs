// units.mjs - the web terminal's pure modules under node, no browser
// (run by tests/sh/web_units.sh): decimal.js, which every price check of the
// ticket stands on.  Prints "ok NAME" / "FAIL NAME: why".
import {units, fmt, show, qty, TICK} from "../../web/js/decimal.js";

let failed = 0;
function eq(name, got, want) {
    if (got === want) {
        console.log("ok web_units_" + name);
    } else {
        failed++;
        console.log(`FAIL web_units_${name}: got ${String(got)}, want ${String(want)}`);
    }
}

// Parsing: exact 1/10,000 integers, never floats; refusals as null.
eq("units_whole", units("101"), 1010000n);
eq("units_decimals", units("101.25"), 1012500n);
eq("units_four_places", units("0.0001"), 1n);
eq("units_float_trap", units("0.3"), units("0.1") + units("0.2"));
eq("units_five_places", units("1.00001"), null);
eq("units_negative", units("-1"), null);
eq("units_exponent", units("1e3"), null);
eq("units_bare_point", units(".5"), null);
eq("units_trailing_point", units("5."), null);
eq("units_comma", units("1,000"), null);
eq("units_empty", units(""), null);
eq("units_null", units(null), null);
eq("units_spaces", units(" 7.5 "), 75000n);
// The tick check the ticket does: 0.01 = 100 units.
eq("tick_on", units("100.05") % TICK, 0n);
eq("tick_off", units("100.005") % TICK === 0n, false);
// Formatting: grouping, at least N decimals, at most 4.
eq("fmt_two", fmt(1012500n), "101.25");
eq("fmt_pad", fmt(1010000n), "101.00");
eq("fmt_four", fmt(1n), "0.0001");
eq("fmt_group", fmt(12345678900000n), "1,234,567,890.00");
eq("fmt_none", fmt(1000000n, 0), "100");
eq("fmt_negative", fmt(-15000n), "-1.50");
eq("show_server_string", show("10.5"), "10.50");
eq("show_garbage_passes", show("n/a"), "n/a");
eq("qty_group", qty(1234567), "1,234,567");
eq("qty_none", qty(undefined), "–");
process.exit(failed ? 1 : 0);
