"""Offline voice calling: Chinese text → pinyin (TONE3) → espeak-ng `cmn-latn-pinyin` → WAV → loudspeaker,
one announcement at a time."""
