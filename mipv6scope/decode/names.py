"""IANA name tables for the Mobility Header (the "Mobile IPv6 parameters" registry).

Sources, in order of authority:

* the IANA "Mobile IPv6 parameters" registry (mobility-parameters), whose
  descriptions the tables below follow;
* RFC 6275 and the RFCs each entry cites;
* Wireshark 4.0's value tables (``tshark -G values``), used as a cross-check.
  Where Wireshark's text differs from IANA's, the differences are recorded in the
  ``WIRESHARK_*_DIFFERENCES`` dicts and a test (tests/decode/test_mh_scapy.py)
  asserts that they are exactly the differences tshark shows.

Editorial choices (IANA text is otherwise kept verbatim):

* Mobility option names drop IANA's redundant trailing "Option" / "option" /
  "Mobility Option" ("Home Network Prefix Option" -> "Home Network Prefix").
* Four IANA option entries are protocol constants, not names: 8
  "MN-ID-OPTION-TYPE", 9 "AUTH-OPTION-TYPE", 10 "MESG-ID-OPTION-TYPE", 17
  "DNS-UPDATE-TYPE". They are named after the defining RFC's option title.
"""

from __future__ import annotations

from collections.abc import Mapping

# ---------------------------------------------------------------------------
# Mobility Header types (IANA "Mobility Header Types - for the MH Type field").
# IANA assigns 0..23; 24..255 are unassigned.
MH_TYPE_NAMES: dict[int, str] = {
    0: "Binding Refresh Request",               # RFC 6275
    1: "Home Test Init",                        # RFC 6275
    2: "Care-of Test Init",                     # RFC 6275
    3: "Home Test",                             # RFC 6275
    4: "Care-of Test",                          # RFC 6275
    5: "Binding Update",                        # RFC 6275
    6: "Binding Acknowledgement",               # RFC 6275
    7: "Binding Error",                         # RFC 6275
    8: "Fast Binding Update",                   # RFC 5568
    9: "Fast Binding Acknowledgment",           # RFC 5568
    10: "Fast Neighbor Advertisement (Deprecated)",  # RFC 5568
    11: "Experimental Mobility Header",         # RFC 5096
    12: "Home Agent Switch Message",            # RFC 5142
    13: "Heartbeat Message",                    # RFC 5847
    14: "Handover Initiate Message",            # RFC 5568
    15: "Handover Acknowledge Message",         # RFC 5568
    16: "Binding Revocation Message",           # RFC 5846
    17: "Localized Routing Initiation",         # RFC 6705
    18: "Localized Routing Acknowledgment",     # RFC 6705
    19: "Update Notification",                  # RFC 7077
    20: "Update Notification Acknowledgement",  # RFC 7077
    21: "Flow Binding Message",                 # RFC 7109
    22: "Subscription Query",                   # RFC 7161
    23: "Subscription Response",                # RFC 7161
}

# Short names. 0-7 are RFC 6275's; the others are the abbreviations the
# defining RFCs use (FBack, HAck, LRI/LRA, UPN/UPA). "EMH", "HAS", "HB", "BR",
# "FB", "SQ" and "SR" are ours where the RFC uses none consistently.
MH_TYPE_ABBREV: dict[int, str] = {
    0: "BRR", 1: "HoTI", 2: "CoTI", 3: "HoT", 4: "CoT", 5: "BU", 6: "BA", 7: "BE",
    8: "FBU", 9: "FBack", 10: "FNA", 11: "EMH", 12: "HAS", 13: "HB", 14: "HI",
    15: "HAck", 16: "BR", 17: "LRI", 18: "LRA", 19: "UPN", 20: "UPA", 21: "FB",
    22: "SQ", 23: "SR",
}

# Wireshark 4.0 names types 0..18 only (19..23 are missing) and drops IANA's
# "Message" suffix and the "(Deprecated)" note: cosmetic differences.
WIRESHARK_MH_TYPE_DIFFERENCES: dict[int, str] = {
    10: "Fast Neighbor Advertisement",
    12: "Home Agent Switch",
    13: "Heartbeat",
    14: "Handover Initiate",
    15: "Handover Acknowledge",
    16: "Binding Revocation",
}

# ---------------------------------------------------------------------------
# Mobility options (IANA "Mobility Options"). IANA assigns 0..70.
MH_OPTION_NAMES: dict[int, str] = {
    0: "Pad1",                                  # RFC 6275
    1: "PadN",                                  # RFC 6275
    2: "Binding Refresh Advice",                # RFC 6275
    3: "Alternate Care-of Address",             # RFC 6275
    4: "Nonce Indices",                         # RFC 6275
    5: "Authorization Data",                    # RFC 6275 (its text: Binding Authorization Data)
    6: "Mobile Network Prefix",                 # RFC 3963
    7: "Mobility Header Link-Layer Address",    # RFC 5568
    8: "Mobile Node Identifier",                # RFC 4283 (IANA: MN-ID-OPTION-TYPE)
    9: "Mobility Message Authentication",       # RFC 4285 (IANA: AUTH-OPTION-TYPE)
    10: "Mobility Message Replay Protection",   # RFC 4285 (IANA: MESG-ID-OPTION-TYPE)
    11: "CGA Parameters Request",               # RFC 4866
    12: "CGA Parameters",                       # RFC 4866
    13: "Signature",                            # RFC 4866
    14: "Permanent Home Keygen Token",          # RFC 4866
    15: "Care-of Test Init",                    # RFC 4866
    16: "Care-of Test",                         # RFC 4866
    17: "DNS Update",                           # RFC 5026 (IANA: DNS-UPDATE-TYPE)
    18: "Experimental",                         # RFC 5096
    19: "Vendor Specific",                      # RFC 5094
    20: "Service Selection",                    # RFC 5149
    21: "Binding Authorization Data for FMIPv6 (BADF)",  # RFC 5568
    22: "Home Network Prefix",                  # RFC 5213
    23: "Handoff Indicator",                    # RFC 5213
    24: "Access Technology Type",               # RFC 5213
    25: "Mobile Node Link-layer Identifier",    # RFC 5213
    26: "Link-local Address",                   # RFC 5213
    27: "Timestamp",                            # RFC 5213
    28: "Restart Counter",                      # RFC 5847
    29: "IPv4 Home Address",                    # RFC 5555
    30: "IPv4 Address Acknowledgement",         # RFC 5555
    31: "NAT Detection",                        # RFC 5555
    32: "IPv4 Care-of Address",                 # RFC 5555
    33: "GRE Key",                              # RFC 5845
    34: "Mobility Header IPv6 Address/Prefix",  # RFC 5568
    35: "Binding Identifier",                   # RFC 5648
    36: "IPv4 Home Address Request",            # RFC 5844
    37: "IPv4 Home Address Reply",              # RFC 5844
    38: "IPv4 Default-Router Address",          # RFC 5844
    39: "IPv4 DHCP Support Mode",               # RFC 5844
    40: "Context Request",                      # RFC 5949
    41: "Local Mobility Anchor Address",        # RFC 5949
    42: "Mobile Node Link-local Address Interface Identifier",  # RFC 5949
    43: "Transient Binding",                    # RFC 6058
    44: "Flow Summary",                         # RFC 6089
    45: "Flow Identification",                  # RFC 6089
    46: "Redirect-Capability",                  # RFC 6463
    47: "Redirect",                             # RFC 6463
    48: "Load Information",                     # RFC 6463
    49: "Alternate IPv4 Care-of Address",       # RFC 6463
    50: "Mobile Node Group Identifier",         # RFC 6602
    51: "MAG IPv6 Address",                     # RFC 6705
    52: "Access Network Identifier",            # RFC 6757
    53: "IPv4 Traffic Offload Selector",        # RFC 6909
    54: "Dynamic IP Multicast Selector",        # RFC 7028
    55: "Delegated Mobile Network Prefix",      # RFC 7148
    56: "Active Multicast Subscription IPv4",   # RFC 7161
    57: "Active Multicast Subscription IPv6",   # RFC 7161
    58: "Quality-of-Service",                   # RFC 7222
    59: "LMA User-Plane Address",               # RFC 7389
    60: "Multicast Mobility",                   # RFC 7411
    61: "Multicast Acknowledgement",            # RFC 7411
    62: "LMA-Controlled MAG Parameters",        # RFC 8127
    63: "MAG Multipath-Binding",                # RFC 8278
    64: "MAG Identifier",                       # RFC 8278
    65: "Anchored Prefix",                      # RFC 8885
    66: "Local Prefix",                         # RFC 8885
    67: "Previous MAAR",                        # RFC 8885
    68: "Serving MAAR",                         # RFC 8885
    69: "DLIF Link-Local Address",              # RFC 8885
    70: "DLIF Link-Layer Address",              # RFC 8885
}
# Wireshark 4.0 disagreements on options: 9 "AUTH", 10 "MESG-ID", 17
# "DNS-UPDATE-TYPE" (IANA's constants, abbreviated); 53, 54 and 56..70 unnamed.

# ---------------------------------------------------------------------------
# Binding Acknowledgement status (IANA "Status Codes"). < 128 is success.
BA_STATUS_NAMES: dict[int, str] = {
    0: "Binding Update accepted/Proxy Binding Update accepted",  # RFC 6275, RFC 5213
    1: "Accepted but prefix discovery necessary",                # RFC 6275
    2: "GRE_KEY_OPTION_NOT_REQUIRED",                            # RFC 5845
    3: "GRE_TUNNELING_BUT_TLV_HEADER_NOT_SUPPORTED",             # RFC 5845
    4: "MCOA NOTCOMPLETE",                                       # RFC 5648
    5: "MCOA RETURNHOME WO/NDP",                                 # RFC 5648
    6: "PBU_ACCEPTED_TB_IGNORED_SETTINGSMISMATCH",               # RFC 6058
    128: "Reason unspecified",                                   # RFC 6275 ...
    129: "Administratively prohibited",
    130: "Insufficient resources",
    131: "Home registration not supported",
    132: "Not home subnet",
    133: "Not home agent for this mobile node",
    134: "Duplicate Address Detection failed",
    135: "Sequence number out of window",
    136: "Expired home nonce index",
    137: "Expired care-of nonce index",
    138: "Expired nonces",
    139: "Registration type change disallowed",                  # ... RFC 6275
    140: "Mobile Router Operation not permitted",                # RFC 3963
    141: "Invalid Prefix",                                       # RFC 3963
    142: "Not Authorized for Prefix",                            # RFC 3963
    143: "Forwarding Setup failed (prefixes missing)",           # RFC 3963
    144: "MIPV6-ID-MISMATCH",                                    # RFC 4285
    145: "MIPV6-MESG-ID-REQD",                                   # RFC 4285
    146: "MIPV6-AUTH-FAIL",                                      # RFC 4285
    147: "Permanent home keygen token unavailable",              # RFC 4866
    148: "CGA and signature verification failed",                # RFC 4866
    149: "Permanent home keygen token exists",                   # RFC 4866
    150: "Non-null home nonce index expected",                   # RFC 4866
    151: "SERVICE_AUTHORIZATION_FAILED",                         # RFC 5149
    152: "PROXY_REG_NOT_ENABLED",                                # RFC 5213
    153: "NOT_LMA_FOR_THIS_MOBILE_NODE",                         # RFC 5213
    154: "MAG_NOT_AUTHORIZED_FOR_PROXY_REG",                     # RFC 5213
    155: "NOT_AUTHORIZED_FOR_HOME_NETWORK_PREFIX",               # RFC 5213
    156: "TIMESTAMP_MISMATCH",                                   # RFC 5213
    157: "TIMESTAMP_LOWER_THAN_PREV_ACCEPTED",                   # RFC 5213
    158: "MISSING_HOME_NETWORK_PREFIX_OPTION",                   # RFC 5213
    159: "BCE_PBU_PREFIX_SET_DO_NOT_MATCH",                      # RFC 5213
    160: "MISSING_MN_IDENTIFIER_OPTION",                         # RFC 5213
    161: "MISSING_HANDOFF_INDICATOR_OPTION",                     # RFC 5213
    162: "MISSING_ACCESS_TECH_TYPE_OPTION",                      # RFC 5213
    163: "GRE_KEY_OPTION_REQUIRED",                              # RFC 5845
    164: "MCOA MALFORMED",                                       # RFC 5648
    165: "MCOA NON-MCOA BINDING EXISTS",                         # RFC 5648
    166: "MCOA PROHIBITED",                                      # RFC 5648
    167: "MCOA UNKNOWN COA",                                     # RFC 5648
    168: "MCOA BULK REGISTRATION PROHIBITED",                    # RFC 5648
    169: "MCOA SIMULTANEOUS HOME AND FOREIGN PROHIBITED",        # RFC 5648
    170: "NOT_AUTHORIZED_FOR_IPV4_MOBILITY_SERVICE",             # RFC 5844
    171: "NOT_AUTHORIZED_FOR_IPV4_HOME_ADDRESS",                 # RFC 5844
    172: "NOT_AUTHORIZED_FOR_IPV6_MOBILITY_SERVICE",             # RFC 5844
    173: "MULTIPLE_IPV4_HOME_ADDRESS_ASSIGNMENT_NOT_SUPPORTED",  # RFC 5844
    174: "Invalid Care-of Address",                              # RFC 6463
    175: "INVALID_MOBILE_NODE_GROUP_IDENTIFIER",                 # RFC 6602
    176: "REINIT_SA_WITH_HAC",                                   # RFC 6618
    177: "NOT_AUTHORIZED_FOR_DELEGATED_MNP",                     # RFC 7148
    178: "REQUESTED_DMNP_IN_USE",                                # RFC 7148
    179: "CANNOT_MEET_QOS_SERVICE_REQUEST",                      # RFC 7222
    180: "CANNOT_SUPPORT_MULTIPATH_BINDING",                     # RFC 8278
}

# Where Wireshark 4.0's BA status label is not IANA's: code -> Wireshark's
# label, None where Wireshark has no label. 143 and 145-148 carry text from
# pre-RFC drafts (NEMO and PMIPv6 drafts) for codes IANA gave to RFC 3963,
# RFC 4285 and RFC 4866; 144 (RFC 4285) and 179-180 are missing; 0 lacks the
# PMIPv6 half of IANA's text.
WIRESHARK_BA_STATUS_DIFFERENCES: dict[int, str | None] = {
    0: "Binding Update accepted",
    143: "Mobile Network Prefix information unavailable",
    144: None,
    145: "Proxy Registration not supported by the LMA",
    146: "Proxy Registrations from this MAG not allowed",
    147: "No home address for this NAI",
    148: "Invalid Time Stamp Option",
    179: None,
    180: None,
}

# Binding Error status (RFC 6275 6.1.9; IANA keeps no registry for these).
# Wireshark writes "Unrecognized MH type value" (lower-case "type").
BE_STATUS_NAMES: dict[int, str] = {
    1: "Unknown binding for Home Address destination option",
    2: "Unrecognized MH Type value",
}

# IANA "Handoff Indicator Option Type Values". Wireshark 4.0 lacks 6.
HANDOFF_INDICATOR_NAMES: dict[int, str] = {
    0: "Reserved",                                                   # RFC 5213
    1: "Attachment over a new interface",                            # RFC 5213
    2: "Handoff between two different interfaces of the mobile node",  # RFC 5213
    3: "Handoff between mobile access gateways for the same interface",  # RFC 5213
    4: "Handoff state unknown",                                      # RFC 5213
    5: "Handoff state not changed (Re-registration)",                # RFC 5213
    6: "Attachment over a new interface sharing prefixes",           # RFC 7864
}

# IANA "Access Technology Type Option Type Values". Wireshark 4.0 lacks 13.
ACCESS_TECHNOLOGY_NAMES: dict[int, str] = {
    0: "Reserved",          # RFC 5213
    1: "Virtual",           # RFC 5213
    2: "PPP",               # RFC 5213
    3: "IEEE 802.3",        # RFC 5213
    4: "IEEE 802.11a/b/g",  # RFC 5213
    5: "IEEE 802.16e",      # RFC 5213
    6: "3GPP GERAN",        # 3GPP TS 29.275
    7: "3GPP UTRAN",        # 3GPP TS 29.275
    8: "3GPP E-UTRAN",      # 3GPP TS 29.275
    9: "3GPP2 eHRPD",       # 3GPP2 X.P0057
    10: "3GPP2 HRPD",       # 3GPP2 X.P0061
    11: "3GPP2 1xRTT",      # 3GPP2 X.S0011
    12: "3GPP2 UMB",        # 3GPP2 X.S0054
    13: "3GPP NB-IOT",      # 3GPP TS 29.275
}

# IANA "Mobile Node Identifier Option Subtypes". Wireshark 4.0 knows only 1,
# as "Network Access Identifier (NAI)".
MN_ID_SUBTYPE_NAMES: dict[int, str] = {
    1: "NAI",             # RFC 4283
    2: "IPv6 Address",    # RFC 8371
    3: "IMSI",            # RFC 8371
    4: "P-TMSI",          # RFC 8371
    5: "EUI-48 address",  # RFC 8371
    6: "EUI-64 address",  # RFC 8371
    7: "GUTI",            # RFC 8371
    8: "DUID",            # RFC 8371
}

# IANA "Dual Stack MIPv6 (DSMIPv6) IPv4 Home Address Option Status Codes",
# the Status of the IPv4 Address Acknowledgement option (RFC 5555 3.2.1).
IPV4_ACK_STATUS_NAMES: dict[int, str] = {
    0: "Success",
    128: "Failure, reason unspecified",
    129: "Administratively prohibited",
    130: "Incorrect IPv4 home address",
    131: "Invalid IPv4 address",
    132: "Dynamic IPv4 home address assignment not available",
    133: "Prefix allocation unauthorized",
}

# Wireshark 4.0's table for this field (mip6.ipv4aa.sts) is a copy of the
# Access Technology Type names: it is wrong for every failure code.
WIRESHARK_IPV4_ACK_STATUS_DIFFERENCES: dict[int, str | None] = {
    128: "Virtual",
    129: "PPP",
    130: "IEEE 802.3",
    131: "IEEE 802.11a/b/g",
    132: "IEEE 802.16e",
    133: None,
}


def name_or_unknown(table: Mapping[int, str], value: int | None) -> str:
    """The table's name for ``value``, or ``"Unknown (N)"`` when it has none."""
    if value is not None and value in table:
        return table[value]
    return f"Unknown ({value})"
