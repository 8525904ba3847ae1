-- keycast wire format v1 (../shared/spec/wire-format.md) for Wireshark/tshark.
-- Decodes the keycast header, its TLVs and KEY_NOTICE; the payload region is
-- shown as bytes (descrambling needs keys). Claims UDP datagrams two ways:
--   * heuristically, on any port: magic "KC", version 1, known type and suite,
--     reserved flag bits 0, 24 <= hdr_len <= datagram, hdr_len % 4 == 0;
--   * on the UDP port of preference "keycast.udp_port" (default 5000, 0 = off):
--     every datagram, with expert info for each reason the spec rejects it.
-- Use: wireshark -X lua_script:keycast.lua, or copy it to the personal plugins
-- directory (Help > About > Folders).

local keycast = Proto("keycast", "keycast scrambled multicast")

-- Lua 5.1/5.2 builds have bit/bit32, 5.3+ builds the & operator.
local band = (bit and bit.band) or (bit32 and bit32.band) or load("return function(a, b) return a & b end")()

local TYPE_DATA, TYPE_NOTICE = 1, 2
local HDR_MIN = 24
local GCM_TAG = 16
local SUITE_GCM = 5
local FLAG_TS, FLAG_RTP, FLAG_RESERVED = 0x01, 0x02, 0xFC

local types = { [TYPE_DATA] = "DATA", [TYPE_NOTICE] = "KEY_NOTICE" }
local suites = {
  [1] = "xor", [2] = "xor-inv", [3] = "aes128-ctr", [4] = "aes256-ctr", [5] = "aes128-gcm",
}
local TLV_PAD, TLV_REMAINING, TLV_ADDR4, TLV_ADDR6, TLV_NEXT_ID, TLV_NEXT_IN = 0, 1, 2, 3, 4, 5
local tlv_names = {
  [TLV_PAD] = "PAD", [TLV_REMAINING] = "KEY_REMAINING_MS", [TLV_ADDR4] = "KEYMGR_ADDR4",
  [TLV_ADDR6] = "KEYMGR_ADDR6", [TLV_NEXT_ID] = "NEXT_KEY_ID", [TLV_NEXT_IN] = "NEXT_KEY_IN_MS",
}
local tlv_sizes = { [TLV_REMAINING] = 4, [TLV_ADDR4] = 6, [TLV_ADDR6] = 18, [TLV_NEXT_ID] = 4, [TLV_NEXT_IN] = 4 }

local f = {
  magic = ProtoField.uint16("keycast.magic", "Magic", base.HEX),
  version = ProtoField.uint8("keycast.version", "Version", base.DEC),
  type = ProtoField.uint8("keycast.type", "Type", base.HEX, types),
  suite = ProtoField.uint8("keycast.suite", "Suite", base.HEX, suites),
  flags = ProtoField.uint8("keycast.flags", "Flags", base.HEX),
  flag_ts = ProtoField.bool("keycast.flags.ts", "TS (MPEG-TS payload)", 8, nil, FLAG_TS),
  flag_rtp = ProtoField.bool("keycast.flags.rtp", "RTP (clear RTP header)", 8, nil, FLAG_RTP),
  flag_reserved = ProtoField.uint8("keycast.flags.reserved", "Reserved", base.HEX, nil, FLAG_RESERVED),
  hdr_len = ProtoField.uint16("keycast.hdr_len", "Header length", base.DEC),
  channel_id = ProtoField.uint32("keycast.channel_id", "Channel id", base.DEC),
  key_id = ProtoField.uint32("keycast.key_id", "Key id", base.DEC),
  seq = ProtoField.uint64("keycast.seq", "Sequence", base.DEC),
  tlv = ProtoField.none("keycast.tlv", "TLV"),
  tlv_type = ProtoField.uint8("keycast.tlv.type", "TLV type", base.HEX, tlv_names),
  tlv_len = ProtoField.uint8("keycast.tlv.len", "TLV length", base.DEC),
  tlv_value = ProtoField.bytes("keycast.tlv.value", "TLV value"),
  pad = ProtoField.bytes("keycast.pad", "Padding"),
  key_remaining_ms = ProtoField.uint32("keycast.key_remaining_ms", "Key remaining (ms)", base.DEC),
  keymgr_addr = ProtoField.string("keycast.keymgr_addr", "Key manager"),
  keymgr_ipv4 = ProtoField.ipv4("keycast.keymgr_addr.ipv4", "Key manager IPv4"),
  keymgr_ipv6 = ProtoField.ipv6("keycast.keymgr_addr.ipv6", "Key manager IPv6"),
  keymgr_port = ProtoField.uint16("keycast.keymgr_addr.port", "Key manager TCP port", base.DEC),
  next_key_id = ProtoField.uint32("keycast.next_key_id", "Next key id", base.DEC),
  next_key_in_ms = ProtoField.uint32("keycast.next_key_in_ms", "Next key in (ms)", base.DEC),
  rtp_header = ProtoField.bytes("keycast.rtp_header", "Clear RTP header"),
  payload = ProtoField.bytes("keycast.payload", "Payload region (scrambled)"),
  payload_len = ProtoField.uint32("keycast.payload.len", "Payload region length", base.DEC),
  gcm_tag = ProtoField.bytes("keycast.gcm_tag", "GCM tag"),
}
keycast.fields = f

local function err(abbrev, text)
  return ProtoExpert.new("keycast.expert." .. abbrev, text, expert.group.MALFORMED, expert.severity.ERROR)
end
local e = {
  short = err("short", "Datagram shorter than the 24-byte header"),
  bad_magic = err("bad_magic", "Bad magic (not \"KC\")"),
  bad_version = err("bad_version", "Unsupported version"),
  bad_type = err("bad_type", "Unknown type"),
  bad_suite = err("bad_suite", "Unknown suite"),
  bad_flags = err("bad_flags", "Invalid flags"),
  bad_hdr_len = err("bad_hdr_len", "Invalid hdr_len"),
  tlv_overrun = err("tlv_overrun", "TLV overruns hdr_len"),
  zero_channel = err("zero_channel", "channel_id is 0"),
  zero_key = err("zero_key", "key_id is 0"),
  short_payload = err("short_payload", "Payload region shorter than the suite needs"),
  notice = ProtoExpert.new("keycast.expert.notice", "Irregular KEY_NOTICE",
    expert.group.PROTOCOL, expert.severity.WARN),
  tlv_len = ProtoExpert.new("keycast.expert.tlv_len", "TLV length does not match its type",
    expert.group.PROTOCOL, expert.severity.WARN),
  unknown_tlv = ProtoExpert.new("keycast.expert.unknown_tlv", "Unknown TLV type (skipped by receivers)",
    expert.group.UNDECODED, expert.severity.NOTE),
}
keycast.experts = e

keycast.prefs.udp_port = Pref.uint("UDP port", 5000,
  "Decode every datagram on this UDP port as keycast, malformed ones with expert info (0: heuristic only)")

-- Header checks the heuristic relies on; nil when plausible, else a reason.
local function header_problem(tvb)
  local len = tvb:len()
  if len < HDR_MIN then return "short" end
  if tvb(0, 2):uint() ~= 0x4B43 then return "bad_magic" end
  if tvb(2, 1):uint() ~= 1 then return "bad_version" end
  if not types[tvb(3, 1):uint()] then return "bad_type" end
  if not suites[tvb(4, 1):uint()] then return "bad_suite" end
  if band(tvb(5, 1):uint(), FLAG_RESERVED) ~= 0 then return "bad_flags" end
  local hdr_len = tvb(6, 2):uint()
  if hdr_len < HDR_MIN or hdr_len % 4 ~= 0 or hdr_len > len then return "bad_hdr_len" end
  return nil
end

-- TLVs in [24, hdr_len); returns the decoded values and whether they fit.
local function dissect_tlvs(tvb, tree, hdr_len, info)
  local off = HDR_MIN
  while off < hdr_len do
    local t = tvb(off, 1):uint()
    if t == TLV_PAD then
      local start = off
      while off < hdr_len and tvb(off, 1):uint() == TLV_PAD do off = off + 1 end
      tree:add(f.pad, tvb(start, off - start)):set_text(string.format("PAD (%d bytes)", off - start))
    else
      local name = tlv_names[t] or string.format("unknown 0x%02x", t)
      if off + 2 > hdr_len or off + 2 + tvb(off + 1, 1):uint() > hdr_len then
        local sub = tree:add(f.tlv, tvb(off, hdr_len - off)):set_text("TLV " .. name .. " (overruns header)")
        sub:add(f.tlv_type, tvb(off, 1))
        if off + 2 <= hdr_len then sub:add(f.tlv_len, tvb(off + 1, 1)) end
        sub:add_proto_expert_info(e.tlv_overrun,
          string.format("TLV %s at offset %d overruns hdr_len %d", name, off, hdr_len))
        return false
      end
      local l = tvb(off + 1, 1):uint()
      local sub = tree:add(f.tlv, tvb(off, 2 + l)):set_text("TLV " .. name)
      sub:add(f.tlv_type, tvb(off, 1))
      sub:add(f.tlv_len, tvb(off + 1, 1))
      local v = l > 0 and tvb(off + 2, l) or nil
      if not tlv_names[t] then
        if v then sub:add(f.tlv_value, v) end
        sub:add_proto_expert_info(e.unknown_tlv)
      elseif l ~= tlv_sizes[t] then
        if v then sub:add(f.tlv_value, v) end
        sub:add_proto_expert_info(e.tlv_len,
          string.format("TLV %s has length %d, expected %d", name, l, tlv_sizes[t]))
      elseif t == TLV_REMAINING then
        sub:add(f.key_remaining_ms, v)
        sub:append_text(": " .. v:uint() .. " ms")
      elseif t == TLV_NEXT_ID then
        sub:add(f.next_key_id, v)
        info.next_key_id = v:uint()
        sub:append_text(": " .. info.next_key_id)
      elseif t == TLV_NEXT_IN then
        sub:add(f.next_key_in_ms, v)
        info.next_key_in_ms = v:uint()
        sub:append_text(": " .. info.next_key_in_ms .. " ms")
      else
        local alen = (t == TLV_ADDR4) and 4 or 16
        local addr = (t == TLV_ADDR4) and tostring(v(0, 4):ipv4()) or ("[" .. tostring(v(0, 16):ipv6()) .. "]")
        local text = addr .. ":" .. v(alen, 2):uint()
        sub:add(f.keymgr_addr, v, text)
        sub:add((t == TLV_ADDR4) and f.keymgr_ipv4 or f.keymgr_ipv6, v(0, alen))
        sub:add(f.keymgr_port, v(alen, 2))
        sub:append_text(": " .. text)
      end
      off = off + 2 + l
    end
  end
  return true
end

-- Length of the RTP header at the start of r (12 + 4*CC + extension), or nil.
local function rtp_header_len(r)
  if r:len() < 12 then return nil end
  local b0 = r(0, 1):uint()
  local n = 12 + 4 * band(b0, 0x0F)
  if band(b0, 0x10) ~= 0 then
    if r:len() < n + 4 then return nil end
    n = n + 4 + 4 * r(n + 2, 2):uint()
  end
  if n > r:len() then return nil end
  return n
end

local function add_if(tree, field, tvb, off, size)
  if tvb:len() >= off + size then return tree:add(field, tvb(off, size)) end
  return nil
end

local function dissect(tvb, pinfo, tree)
  local len = tvb:len()
  pinfo.cols.protocol = "KEYCAST"
  local root = tree:add(keycast, tvb())
  local problems = {}
  local function bad(item, ef, text)
    (item or root):add_proto_expert_info(ef, text)
    problems[#problems + 1] = text
  end

  local magic = add_if(root, f.magic, tvb, 0, 2)
  local version = add_if(root, f.version, tvb, 2, 1)
  local typ = add_if(root, f.type, tvb, 3, 1)
  local suite = add_if(root, f.suite, tvb, 4, 1)
  local flags = add_if(root, f.flags, tvb, 5, 1)
  if flags then
    flags:add(f.flag_ts, tvb(5, 1))
    flags:add(f.flag_rtp, tvb(5, 1))
    flags:add(f.flag_reserved, tvb(5, 1))
  end
  local hdr_len_item = add_if(root, f.hdr_len, tvb, 6, 2)
  local chan = add_if(root, f.channel_id, tvb, 8, 4)
  local key = add_if(root, f.key_id, tvb, 12, 4)
  local seq = add_if(root, f.seq, tvb, 16, 8)

  if len < HDR_MIN then
    bad(root, e.short, string.format("Datagram of %d bytes is shorter than the 24-byte header", len))
    pinfo.cols.info = "keycast [MALFORMED: " .. problems[1] .. "]"
    return len
  end

  local t, s, fl = tvb(3, 1):uint(), tvb(4, 1):uint(), tvb(5, 1):uint()
  local hdr_len, ch, kid = tvb(6, 2):uint(), tvb(8, 4):uint(), tvb(12, 4):uint()
  local seqv = tvb(16, 8):uint64()
  if tvb(0, 2):uint() ~= 0x4B43 then
    bad(magic, e.bad_magic, string.format("Bad magic 0x%04x (expected 0x4b43 \"KC\")", tvb(0, 2):uint()))
  end
  if tvb(2, 1):uint() ~= 1 then
    bad(version, e.bad_version, "Unsupported version " .. tvb(2, 1):uint() .. " (expected 1)")
  end
  if not types[t] then bad(typ, e.bad_type, string.format("Unknown type 0x%02x", t)) end
  if not suites[s] then bad(suite, e.bad_suite, string.format("Unknown suite 0x%02x", s)) end
  if band(fl, FLAG_RESERVED) ~= 0 then
    bad(flags, e.bad_flags, string.format("Reserved flag bits set (flags 0x%02x)", fl))
  end
  if s == SUITE_GCM and band(fl, FLAG_TS) ~= 0 then
    bad(flags, e.bad_flags, "TS flag set with suite aes128-gcm")
  end
  -- TLVs and payload only under a v1 header whose hdr_len fits.
  local hdr_ok = #problems == 0 or (tvb(0, 2):uint() == 0x4B43 and tvb(2, 1):uint() == 1)
  if hdr_len % 4 ~= 0 then
    bad(hdr_len_item, e.bad_hdr_len, string.format("hdr_len %d is not a multiple of 4", hdr_len))
    hdr_ok = false
  elseif hdr_len < HDR_MIN then
    bad(hdr_len_item, e.bad_hdr_len, string.format("hdr_len %d is below 24", hdr_len))
    hdr_ok = false
  elseif hdr_len > len then
    bad(hdr_len_item, e.bad_hdr_len, string.format("hdr_len %d is beyond the %d-byte datagram", hdr_len, len))
    hdr_ok = false
  end
  if ch == 0 then bad(chan, e.zero_channel, "channel_id is 0") end
  if kid == 0 and t == TYPE_DATA then bad(key, e.zero_key, "key_id is 0") end

  local info = {}
  if hdr_ok then
    local tlvs_ok = dissect_tlvs(tvb, root, hdr_len, info)
    if not tlvs_ok then problems[#problems + 1] = "TLV overruns hdr_len" end
    local region_end = len
    if s == SUITE_GCM and t == TYPE_DATA then
      if len - hdr_len < GCM_TAG then
        bad(root, e.short_payload, string.format("No room for the 16-byte GCM tag (%d bytes after the header)",
          len - hdr_len))
      else
        region_end = len - GCM_TAG
      end
    end
    if t == TYPE_NOTICE then
      if seqv ~= UInt64(0) then
        root:add_proto_expert_info(e.notice, "KEY_NOTICE with seq " .. tostring(seqv) .. " (expected 0)")
      end
      if len > hdr_len then
        root:add_proto_expert_info(e.notice, "KEY_NOTICE with a payload region")
      end
      if tlvs_ok and (not info.next_key_id or not info.next_key_in_ms) then
        root:add_proto_expert_info(e.notice, "KEY_NOTICE without NEXT_KEY_ID and NEXT_KEY_IN_MS")
      end
    end
    if region_end > hdr_len then
      local region = tvb(hdr_len, region_end - hdr_len)
      local pitem = root:add(f.payload, region)
      pitem:set_text(string.format("Payload region (%d bytes)", region:len()))
      pitem:add(f.payload_len, region:len()):set_generated()
      if band(fl, FLAG_RTP) ~= 0 then
        local n = rtp_header_len(region)
        if n then pitem:add(f.rtp_header, region(0, n)) end
      end
    elseif t == TYPE_DATA and s ~= SUITE_GCM then
      root:add(f.payload_len, 0):set_generated()
    end
    if region_end < len then root:add(f.gcm_tag, tvb(region_end, GCM_TAG)) end
  end

  local name = types[t] or string.format("type 0x%02x", t)
  local text
  if t == TYPE_NOTICE then
    text = string.format("KEY_NOTICE ch=%d key=%d", ch, kid)
    if info.next_key_id then text = text .. " next=" .. info.next_key_id end
    if info.next_key_in_ms then text = text .. " in " .. info.next_key_in_ms .. " ms" end
  else
    text = string.format("%s ch=%d key=%d seq=%s %s", name, ch, kid, tostring(seqv),
      suites[s] or string.format("suite 0x%02x", s))
  end
  if #problems > 0 then text = text .. " [MALFORMED: " .. problems[1] .. "]" end
  pinfo.cols.info = text
  root:append_text(", " .. text)
  return len
end

function keycast.dissector(tvb, pinfo, tree)
  return dissect(tvb, pinfo, tree)
end

local function heuristic(tvb, pinfo, tree)
  if header_problem(tvb) then return false end
  dissect(tvb, pinfo, tree)
  return true
end
keycast:register_heuristic("udp", heuristic)

local udp_table = DissectorTable.get("udp.port")
local registered_port = 0
local function apply_port()
  if registered_port ~= 0 then udp_table:remove(registered_port, keycast) end
  registered_port = keycast.prefs.udp_port
  if registered_port ~= 0 then udp_table:add(registered_port, keycast) end
end
keycast.prefs_changed = apply_port
apply_port()
