#!/usr/bin/env python3
"""Checks a Neuraxon MCAP recording with the independent `mcap` reader from PyPI.

    check_mcap.py RUN.mcap RUN.jsonl [--other-run]

RUN.jsonl is the same recording as JSON Lines (the reference); with --other-run it is another
run of the same simulation, recorded at another path. The check reads RUN.mcap twice,
through its summary and indexes (the indexed reader) and front to back with every CRC checked
(the stream reader), and asserts that:
- the summary is there and its statistics, channel counts, chunk indexes, message indexes,
  attachment and metadata indexes are valid and agree with the file;
- the schemas and channels are those Docs/LOG-FORMAT.md lists, JSON Schema and JSON encoded, and
  every event and link status message has the fields its schema lists (and no others);
- every tick, event and link record of RUN.jsonl comes back, in order, with log time = t_us * 1000,
  and every field equal (with --other-run, start_time, host_ns, sent_ns, latency_us and the network
  file's name are not compared: two runs of one simulation differ only there);
- the header is in the `neuraxon.recording` metadata and the mapping (and the network file,
  when the recording names one) are attached.
Prints one line per finding and exits 1 on the first failure.
"""
import hashlib
import json
import math
import struct
import sys
from collections import Counter

from mcap.reader import make_reader
from mcap.stream_reader import StreamReader

TICK_TOPICS = ["/neuraxon/sensors", "/neuraxon/inputs", "/neuraxon/outputs", "/neuraxon/setpoints",
               "/neuraxon/modulators", "/neuraxon/link"]
SCHEMAS = {
    "/neuraxon/sensors": "neuraxon.Sensors", "/neuraxon/inputs": "neuraxon.InputTrits",
    "/neuraxon/outputs": "neuraxon.OutputTrits", "/neuraxon/setpoints": "neuraxon.Setpoints",
    "/neuraxon/modulators": "neuraxon.Neuromodulators", "/neuraxon/link": "neuraxon.Link",
    "/neuraxon/events": "neuraxon.Event", "/neuraxon/link_status": "neuraxon.LinkStatus", "/sim/pose": "foxglove.PoseInFrame",
    "/tf": "foxglove.FrameTransform", "/sim/world": "foxglove.SceneUpdate",
}
MODULATORS = ["dopamine", "serotonin", "acetylcholine", "norepinephrine"]
WALL_CLOCK = {"start_time", "host_ns", "sent_ns", "latency_us"}


def fail(message):
    print("FAIL: " + message)
    sys.exit(1)


def check(condition, message):
    if not condition:
        fail(message)


def same_number(a, b):
    if a is None or b is None:
        return a is None and b is None
    return a == b or (isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b))


def read_jsonl(path):
    with open(path) as f:
        header = json.loads(next(f))
        records = [json.loads(line) for line in f if line.endswith("\n")]
    return (header, [r for r in records if r["type"] == "tick"], [r for r in records if r["type"] == "event"],
            [r for r in records if r["type"] == "link"])


def check_against_schema(topic, schema, message):
    """The message has every required field of its schema, no field the schema does not list,
    a listed value where the schema enumerates them, and nested objects likewise."""
    properties = schema.get("properties", {})
    for key in schema.get("required", []):
        check(key in message, f"{topic}: a message lacks `{key}`")
    for key, value in message.items():
        check(key in properties, f"{topic}: `{key}` is not in the schema")
        field = properties[key]
        if "enum" in field:
            check(value in field["enum"], f"{topic}: `{key}` = {value!r} is not one of {field['enum']}")
        if field.get("type") == "object" and "properties" in field:
            check_against_schema(topic, field, value)


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    ignore_wall = "--other-run" in sys.argv
    check(len(args) == 2, "usage: check_mcap.py RUN.mcap RUN.jsonl [--other-run]")
    mcap_path, jsonl_path = args
    header, ticks, events, links = read_jsonl(jsonl_path)
    simulated = "world" in header

    with open(mcap_path, "rb") as f:
        reader = make_reader(f, validate_crcs=True)
        summary = reader.get_summary()
        check(summary is not None, "the file has no summary")
        stats = summary.statistics
        check(stats is not None, "the summary has no statistics")

        # Schemas and channels as documented.
        topics = {c.topic: c for c in summary.channels.values()}
        json_schemas = {}
        expected_topics = set(TICK_TOPICS + ["/neuraxon/events", "/neuraxon/link_status"]) | ({"/tf", "/sim/pose", "/sim/world"} if simulated else set())
        check(set(topics) == expected_topics, f"topics {sorted(topics)} are not {sorted(expected_topics)}")
        for topic, channel in topics.items():
            schema = summary.schemas[channel.schema_id]
            check(channel.message_encoding == "json", f"{topic} is encoded {channel.message_encoding!r}")
            check(schema.encoding == "jsonschema", f"{topic}'s schema is {schema.encoding!r}")
            check(schema.name == SCHEMAS[topic], f"{topic}'s schema is {schema.name}, not {SCHEMAS[topic]}")
            json_schema = json.loads(schema.data)
            check(json_schema.get("type") == "object", f"{topic}'s JSON Schema is not an object schema")
            json_schemas[topic] = json_schema
        print(f"ok: {len(topics)} channels with their JSON Schemas")

        # Statistics against the recording.
        per_tick = len(TICK_TOPICS) + (2 if simulated else 0)
        expected_messages = len(ticks) * per_tick + len(events) + len(links) + (1 if simulated else 0)
        check(stats.message_count == expected_messages, f"statistics count {stats.message_count} messages, expected {expected_messages}")
        check(stats.channel_count == len(topics) and stats.schema_count == len(summary.schemas), "statistics count the wrong channels or schemas")
        check(stats.chunk_count == len(summary.chunk_indexes), "statistics count the wrong chunks")
        check(stats.attachment_count == len(summary.attachment_indexes), "statistics count the wrong attachments")
        check(stats.metadata_count == len(summary.metadata_indexes), "statistics count the wrong metadata")
        for topic in TICK_TOPICS:
            check(stats.channel_message_counts.get(topics[topic].id) == len(ticks), f"{topic}: {stats.channel_message_counts.get(topics[topic].id)} messages, {len(ticks)} ticks")
        check(stats.channel_message_counts.get(topics["/neuraxon/events"].id, 0) == len(events), "the events' count differs")
        check(stats.channel_message_counts.get(topics["/neuraxon/link_status"].id, 0) == len(links), "the link records' count differs")
        if ticks:
            first = min([t["t_us"] for t in ticks] + [e["t_us"] for e in events + links]) * 1000
            if simulated:
                first = 0  # the world's scene update
            last = max([t["t_us"] for t in ticks] + [e["t_us"] for e in events + links]) * 1000
            check(stats.message_start_time == first and stats.message_end_time == last,
                  f"statistics span {stats.message_start_time}…{stats.message_end_time}, expected {first}…{last}")
        print(f"ok: statistics: {stats.message_count} messages in {stats.chunk_count} chunks")

        # Every chunk index points at its chunk, every message index at the chunk's messages.
        for index in summary.chunk_indexes:
            f.seek(index.chunk_start_offset)
            opcode, length = struct.unpack("<BQ", f.read(9))
            check(opcode == 0x06 and length + 9 == index.chunk_length, f"the chunk index at {index.chunk_start_offset} does not point at a chunk of its length")
            total = 0
            for channel_id, offset in index.message_index_offsets.items():
                f.seek(offset)
                opcode, length = struct.unpack("<BQ", f.read(9))
                check(opcode == 0x07, f"a message index offset {offset} does not point at a message index")
                (cid,) = struct.unpack("<H", f.read(2))
                check(cid == channel_id, "a message index names another channel")
                total += length
            check(index.message_index_length >= total, "a chunk's message indexes are longer than its index says")

        # Messages through the indexes, in log-time order (ties in file order).
        indexed = list(reader.iter_messages(log_time_order=False))
        check(len(indexed) == stats.message_count, f"the indexed reader returned {len(indexed)} messages, statistics say {stats.message_count}")

        metadata = list(reader.iter_metadata())
        recording = [m for m in metadata if m.name == "neuraxon.recording"]
        check(len(recording) == 1, "the neuraxon.recording metadata is missing")
        stored = json.loads(recording[0].metadata["header"])
        if ignore_wall:
            check(stored["network"]["digest"] == header["network"]["digest"], "the header's network digest differs")
        for key in set(header) | set(stored):
            if ignore_wall and (key in WALL_CLOCK or key == "network"):
                continue
            check(stored.get(key) == header.get(key), f"the header's `{key}` differs from the recording's")
        meta = recording[0].metadata
        check(meta["firmware"] == header["device"]["firmware_version"] and meta["board"] == header["device"]["name"]
              and meta["network_digest"] == header["network"]["digest"] and meta["mapping"] == header["mapping"],
              "the run's metadata (firmware, board, network digest, mapping) differs from the header")
        attachments = {a.name: a for a in reader.iter_attachments()}
        check("mapping.yaml" in attachments and attachments["mapping.yaml"].data.decode() == header["mapping"], "the mapping is not attached")
        if "network.json" in attachments:
            digest = hashlib.sha256(attachments["network.json"].data).hexdigest()
            check(digest == header["network"]["digest"], "the attached network file's SHA-256 differs from the header's")
        print(f"ok: header in metadata, attachments: {sorted(attachments)}")

    # Front to back with every CRC checked (the data section's and each chunk's).
    with open(mcap_path, "rb") as f:
        kinds = Counter(type(r).__name__ for r in StreamReader(f, validate_crcs=True, skip_magic=False).records)
    check(kinds["DataEnd"] == 1 and kinds["Footer"] == 1, "the stream lacks its data end or footer")
    check(kinds["Message"] == stats.message_count, "the stream's messages are not those of the statistics")
    check(kinds["ChunkIndex"] == stats.chunk_count and kinds["MessageIndex"] >= stats.chunk_count, "the stream's chunk or message indexes are not those of the summary")
    print(f"ok: stream read with CRCs: {dict(kinds)}")

    # Every message equals the recording.
    by_topic = {t: [] for t in expected_topics}
    for schema, channel, message in indexed:
        by_topic[channel.topic].append((message, json.loads(message.data)))
    for topic in TICK_TOPICS:
        got = by_topic[topic]
        check([d["tick"] for _, d in got] == [t["tick"] for t in ticks], f"{topic}: the tick numbers differ")
        check([m.log_time for m, _ in got] == [t["t_us"] * 1000 for t in ticks], f"{topic}: log times are not t_us * 1000")
        check(all(m.publish_time == m.log_time for m, _ in got), f"{topic}: publish time differs from log time")
    sensors = [s["name"] for s in header["device"]["sensors"]]
    actuators = [a["name"] for a in header["device"]["actuators"]]
    for k, t in enumerate(ticks):
        s = by_topic["/neuraxon/sensors"][k][1]
        check(s["t_us"] == t["t_us"] and s["seq"] == t["seq"], f"tick {t['tick']}: t_us or seq differ")
        check([s["raw"][n] for n in sensors[:len(t["raw"])]] == t["raw"] and len(s["raw"]) == len(t["raw"]), f"tick {t['tick']}: raw readings differ")
        check(all(same_number(s["values"][n], v) for n, v in zip(header["value_names"], t["values"])), f"tick {t['tick']}: values differ")
        check(by_topic["/neuraxon/inputs"][k][1]["inputs"] == t["inputs"], f"tick {t['tick']}: inputs differ")
        o = by_topic["/neuraxon/outputs"][k][1]
        check(o["outputs"] == t["outputs"] and o["steps"] == t["steps"], f"tick {t['tick']}: outputs or steps differ")
        check([by_topic["/neuraxon/setpoints"][k][1]["setpoints"][n] for n in actuators[:len(t["setpoints"])]] == t["setpoints"], f"tick {t['tick']}: setpoints differ")
        m = by_topic["/neuraxon/modulators"][k][1]
        check([m[n] for n in MODULATORS] == t["modulators"], f"tick {t['tick']}: modulators differ")
        link = by_topic["/neuraxon/link"][k][1]
        check(link["counters"] == t["counters"] and link["seq"] == t["seq"], f"tick {t['tick']}: link counters differ")
        if not ignore_wall:
            check(link["host_ns"] == t["host_ns"] and link["sent_ns"] == t["sent_ns"], f"tick {t['tick']}: host times differ")
        if simulated:
            p = by_topic["/sim/pose"][k][1]
            tf = by_topic["/tf"][k][1]
            check(p["frame_id"] == "world" and tf["parent_frame_id"] == "world" and tf["child_frame_id"] == "robot", "pose frames differ")
            check(p["pose"]["position"]["x"] == t["pose"]["x"] and p["pose"]["position"]["y"] == t["pose"]["y"], f"tick {t['tick']}: pose differs")
            q = p["pose"]["orientation"]
            check(abs(2 * math.atan2(q["z"], q["w"]) - math.atan2(math.sin(t["pose"]["heading"]), math.cos(t["pose"]["heading"]))) < 1e-9
                  or abs(abs(2 * math.atan2(q["z"], q["w"]) - t["pose"]["heading"]) % (2 * math.pi)) < 1e-9, f"tick {t['tick']}: heading differs")
            stamp = p["timestamp"]
            check(stamp["sec"] * 10**9 + stamp["nsec"] == t["t_us"] * 1000, f"tick {t['tick']}: pose timestamp differs")
    got_events = [d for _, d in by_topic["/neuraxon/events"]]
    check(got_events == [{k: v for k, v in e.items() if k != "type"} for e in events], "events differ")
    check([m.log_time for m, _ in by_topic["/neuraxon/events"]] == [e["t_us"] * 1000 for e in events], "events: log times are not t_us * 1000")
    for event in got_events:
        check_against_schema("/neuraxon/events", json_schemas["/neuraxon/events"], event)
    got_links = [d for _, d in by_topic["/neuraxon/link_status"]]
    check(got_links == [{k: v for k, v in r.items() if k != "type"} for r in links], "link status messages differ")
    check([m.log_time for m, _ in by_topic["/neuraxon/link_status"]] == [r["t_us"] * 1000 for r in links],
          "link status: log times are not t_us * 1000")
    for link in got_links:
        check_against_schema("/neuraxon/link_status", json_schemas["/neuraxon/link_status"], link)
        check(set(link["counters"]) == set(json_schemas["/neuraxon/link_status"]["properties"]["counters"]["properties"]),
              "link status: the counters are not those of the schema")
    print(f"ok: {len(links)} link status messages equal the recording")
    if simulated:
        world = by_topic["/sim/world"]
        check(len(world) == 1 and {e["id"] for e in world[0][1]["entities"]} == {"world", "robot"}, "the world's scene update is missing or incomplete")
        check(len(world[0][1]["entities"][0]["cubes"]) >= 5, "the world lacks its floor and walls")
    print(f"ok: {len(ticks)} ticks and {len(events)} events equal the recording")


if __name__ == "__main__":
    main()
