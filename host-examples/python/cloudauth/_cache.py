"""The host-side credential cache, keyed by the session's ``cache-key()``.

Lifetime as the component's own cache and Flux's token cache: an entry is
reused until 80% of the credentials' lifetime (counted from when they were
stored) has passed, and at most one hour; credentials without an expiry, or
already expired, are not stored. At most ``capacity`` entries, the least
recently used evicted first. Thread-safe.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Generic, Optional, TypeVar

CAPACITY = 256
MAX_DURATION = 3600

T = TypeVar("T")


class CredentialCache(Generic[T]):
    def __init__(self, capacity: int = CAPACITY) -> None:
        self.capacity = capacity
        self._entries: OrderedDict[str, tuple[T, int]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str, now: int) -> Optional[T]:
        """The value under ``key`` if still fresh at ``now`` (Unix seconds)."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            value, reuse_until = entry
            if now >= reuse_until:
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return value

    def set(self, key: str, value: T, expires_at: Optional[int], now: int) -> None:
        """Stores ``value``, which expires at ``expires_at`` (Unix seconds or None)."""
        if expires_at is None or expires_at <= now:
            return
        lifetime = min((expires_at - now) * 4 // 5, MAX_DURATION)
        if lifetime <= 0:
            return
        with self._lock:
            self._entries[key] = (value, now + lifetime)
            self._entries.move_to_end(key)
            while len(self._entries) > self.capacity:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
