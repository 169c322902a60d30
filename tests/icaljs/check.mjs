// Reads an iCalendar stream on stdin, parses it with ical.js (Thunderbird's parser) and
// prints what the tests compare: each event's uid, summary, start, end, status, sequence.
// Exits non-zero with the parser's message when the stream does not parse.
import ICAL from "ical.js";

let text = "";
process.stdin.setEncoding("utf8");
for await (const chunk of process.stdin) text += chunk;

try {
  const calendar = new ICAL.Component(ICAL.parse(text));
  if (calendar.name !== "vcalendar") throw new Error(`top component is ${calendar.name}`);
  const events = calendar.getAllSubcomponents("vevent").map((component) => {
    const event = new ICAL.Event(component);
    return {
      uid: event.uid,
      summary: event.summary,
      description: event.description,
      location: event.location,
      start: event.startDate.toString(),
      end: event.endDate.toString(),
      allDay: event.startDate.isDate,
      status: component.getFirstPropertyValue("status"),
      sequence: event.sequence,
      stamp: component.getFirstPropertyValue("dtstamp").toString(),
      categories: component.getAllProperties("categories").flatMap((p) => p.getValues()),
    };
  });
  const name = calendar.getFirstPropertyValue("x-wr-calname");
  process.stdout.write(JSON.stringify({ name, events }));
} catch (error) {
  process.stderr.write(String(error && error.stack ? error.stack : error));
  process.exit(1);
}
