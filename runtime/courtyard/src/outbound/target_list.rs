//! Campaign target lists uploaded as CSV: a header row naming the columns (`number` required,
//! `id` optional, every other column becomes a flow parameter, e.g. `unit_id`), one target per
//! line. Every bad line is reported with its line number; one bad line refuses the whole list,
//! so a campaign never starts on half a list.

use std::collections::BTreeMap;

use courtyard_campaigns::Target;

use super::guard::{DialPlan, strip_visual_separators};

/// Parses a CSV target list; `Err` holds one message per bad line ("line 4: …").
pub fn parse_csv(text: &str, plan: &DialPlan) -> Result<Vec<Target>, Vec<String>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
    let Some((_, header)) = lines.next() else { return Err(vec!["line 1: the list is empty (expected a header row)".into()]) };
    let columns: Vec<String> = split(header).into_iter().map(|c| c.to_ascii_lowercase()).collect();
    let Some(number_col) = columns.iter().position(|c| c == "number") else {
        return Err(vec![format!("line 1: the header has no 'number' column (columns: {})", columns.join(", "))]);
    };
    let id_col = columns.iter().position(|c| c == "id");
    let mut targets = Vec::new();
    let mut errors = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, line) in lines {
        let n = i + 1;
        let fields = split(line);
        if fields.len() != columns.len() {
            errors.push(format!("line {n}: {} fields, the header has {}", fields.len(), columns.len()));
            continue;
        }
        let number = strip_visual_separators(&fields[number_col]);
        if let Err(r) = plan.check(&number) {
            errors.push(format!("line {n}: number '{}' refused: {}", r.shown, r.reason));
            continue;
        }
        let id = match id_col {
            Some(c) if !fields[c].is_empty() => fields[c].clone(),
            _ => format!("line{n}"),
        };
        if !seen.insert(id.clone()) {
            errors.push(format!("line {n}: target id '{id}' appears twice"));
            continue;
        }
        let params: BTreeMap<String, String> = columns
            .iter()
            .enumerate()
            .filter(|(c, _)| *c != number_col && Some(*c) != id_col)
            .map(|(c, name)| (name.clone(), fields[c].clone()))
            .collect();
        targets.push(Target { id, number, params });
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    if targets.is_empty() {
        return Err(vec!["the list has a header but no targets".into()]);
    }
    Ok(targets)
}

/// Splits one CSV line: commas, fields optionally in double quotes (`""` for a quote).
fn split(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => out.push(std::mem::take(&mut cur).trim().to_string()),
            (c, _) => cur.push(c),
        }
    }
    out.push(cur.trim().to_string());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outbound::guard::DialPlanConfig;

    fn plan() -> DialPlan {
        DialPlan::new(&DialPlanConfig::default(), &[]).unwrap()
    }

    #[test]
    fn header_names_the_params_and_ids_default_to_the_line() {
        let t = parse_csv("number,unit_id,id\n138-0013-8000,U1,a\n\n\"139 0000 0001\",\"U,2\",\n", &plan()).unwrap();
        assert_eq!(t.len(), 2);
        assert_eq!((t[0].id.as_str(), t[0].number.as_str(), t[0].params["unit_id"].as_str()), ("a", "13800138000", "U1"));
        assert_eq!((t[1].id.as_str(), t[1].params["unit_id"].as_str()), ("line4", "U,2"));
    }

    #[test]
    fn every_bad_line_is_reported_with_its_number() {
        let csv = "number,unit_id\n13800138000,U1\n13x,U2\n500&SIP/itsp/14165551212,U3\n13900000001\n";
        let e = parse_csv(csv, &plan()).unwrap_err();
        assert_eq!(e.len(), 3, "{e:?}");
        assert!(e[0].starts_with("line 3:") && e[0].contains("not a digit"), "{e:?}");
        assert!(e[1].starts_with("line 4:") && e[1].contains("'&'"), "{e:?}");
        assert!(e[2].starts_with("line 5:") && e[2].contains("1 fields"), "{e:?}");
        assert!(parse_csv("phone\n1\n", &plan()).unwrap_err()[0].contains("no 'number' column"));
    }
}
