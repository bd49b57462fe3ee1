#!/usr/bin/env python3
"""Python's own configparser, as koji's read_config_files uses it, for the
Go profile tests to compare against.

  configparser_peer.py parse   < {"cases": [{"files": [path, ...]}, ...]}
  configparser_peer.py chars

parse reads each case's files, in order, into one ConfigParser (read as
UTF-8 with % interpolation, as the koji client does) and prints, for each
case, either the error it raised or every section with its items
(interpolated, [DEFAULT]'s first) and, for the options koji types, the
result of getboolean or int() ("null" for a ValueError).

chars prints the code points for which str.isspace() holds and the
decimal value of every decimal digit, for the Go helpers that mirror
Python's str.strip() and int().
"""
import configparser
import json
import sys
import unicodedata

BOOLS = ('anon_retry', 'offline_retry', 'use_fast_upload', 'debug',
         'debug_xmlrpc', 'force_auth', 'no_ssl_verify')
INTS = ('max_retries', 'retry_interval', 'offline_retry_interval',
        'poll_interval', 'timeout', 'auth_timeout', 'upload_blocksize', 'pyver')


def parse_case(files):
    config = configparser.ConfigParser()
    try:
        read = config.read(files, encoding='utf-8')
    except Exception as e:  # noqa: BLE001 - any parse error is the answer
        return {'error': '%s: %s' % (type(e).__name__, e)}
    if len(read) != len(files):
        return {'error': 'unread files: %r' % sorted(set(files) - set(read))}
    out = {'error': None, 'sections': {}}
    for name in config.sections():
        sect = {}
        try:
            sect['items'] = [[k, v] for k, v in config.items(name)]
        except configparser.Error as e:
            sect['error'] = '%s: %s' % (type(e).__name__, e)
            out['sections'][name] = sect
            continue
        typed = {}
        for k, v in sect['items']:
            if k in BOOLS:
                try:
                    typed[k] = config.getboolean(name, k)
                except ValueError:
                    typed[k] = None
            elif k in INTS:
                try:
                    typed[k] = str(int(v))
                except ValueError:
                    typed[k] = None
        sect['typed'] = typed
        out['sections'][name] = sect
    return out


def chars():
    space = [cp for cp in range(sys.maxunicode + 1) if chr(cp).isspace()]
    digits = {}
    for cp in range(sys.maxunicode + 1):
        d = unicodedata.decimal(chr(cp), None)
        if d is not None:
            digits[str(cp)] = d
    return {'space': space, 'digits': digits,
            'unidata_version': unicodedata.unidata_version}


def main():
    if sys.argv[1:] == ['parse']:
        req = json.load(sys.stdin)
        result = [parse_case(c['files']) for c in req['cases']]
    elif sys.argv[1:] == ['chars']:
        result = chars()
    else:
        sys.exit('usage: configparser_peer.py parse|chars')
    json.dump(result, sys.stdout)


if __name__ == '__main__':
    main()
