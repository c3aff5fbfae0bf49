#!/usr/bin/python3
# -*- coding: utf-8 -*-
"""infdriver.py: a libinfinity 0.7 client (what Gobby does, without the GUI),
driven by JSON lines on stdin, so TypeScript interop tests can make the REAL
client library talk to a server (infinoted or tandemd).

Protocol (one JSON object per line, UTF-8):
  stdin   {"id": 1, "cmd": "connect", "host": "127.0.0.1", "port": 6523, ...}
  stdout  {"id": 1, "ok": true, ...result fields}
          {"id": 1, "ok": false, "error": "<domain> <code>: <message>"}
          {"event": "text-changed", ...}        (unsolicited)
Every command may carry "timeout" (milliseconds, default 10000); a command
that has not finished by then answers ok:false "timeout: ...".

Run with /usr/bin/python3 (Debian's, which has python3-gi and the
gir1.2-infinity-0.7 typelibs). The network I/O runs on InfGtkIo, i.e. on the
default GLib main context, so stdin is read with a GLib IO watch on the same
GLib.MainLoop.
"""

import ctypes
import hashlib
import json
import os
import sys
import time
import traceback

import gi
gi.require_version('Infinity', '0.7')
gi.require_version('Infinityc', '0.7')
gi.require_version('InfText', '0.7')
gi.require_version('InfGtk', '0.7')
from gi.repository import GLib, GObject, Infinity, Infinityc, InfText, InfGtk  # noqa: E402

# --------------------------------------------------------------------------
# ctypes: the few things PyGObject cannot express
# --------------------------------------------------------------------------
_inf = ctypes.CDLL("libinfinity-0.7.so.0")
_inftext = ctypes.CDLL("libinftext-0.7.so.0")
_gobj = ctypes.CDLL("libgobject-2.0.so.0")

ctypes.pythonapi.PyCapsule_GetPointer.restype = ctypes.c_void_p
ctypes.pythonapi.PyCapsule_GetPointer.argtypes = [ctypes.py_object, ctypes.c_char_p]


def gobject_ptr(obj):
    """Address of the C GObject behind a PyGObject wrapper."""
    return ctypes.pythonapi.PyCapsule_GetPointer(obj.__gpointer__, None)


# InfcNotePlugin (libinfinity/client/infc-note-plugin.h) holds a function
# pointer, which GI cannot fill in: build the struct with ctypes.
_SessionNew = ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p,
                               ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p,
                               ctypes.c_char_p, ctypes.c_void_p)


class _NotePlugin(ctypes.Structure):
    _fields_ = [("user_data", ctypes.c_void_p),
                ("note_type", ctypes.c_char_p),
                ("session_new", _SessionNew)]


_inftext.inf_text_default_buffer_new.restype = ctypes.c_void_p
_inftext.inf_text_default_buffer_new.argtypes = [ctypes.c_char_p]
_inftext.inf_text_session_new.restype = ctypes.c_void_p
_inftext.inf_text_session_new.argtypes = [ctypes.c_void_p] * 3 + [ctypes.c_int] + [ctypes.c_void_p] * 2
_gobj.g_object_unref.argtypes = [ctypes.c_void_p]
_gobj.g_object_ref.restype = ctypes.c_void_p
_gobj.g_object_ref.argtypes = [ctypes.c_void_p]
_inf.infc_browser_add_plugin.restype = ctypes.c_int
_inf.infc_browser_add_plugin.argtypes = [ctypes.c_void_p, ctypes.c_void_p]

# InfBrowserIter arguments of inf_browser_get_child()/get_next() are
# (inout) structs that PyGObject passes wrongly (the C side sees garbage and
# asserts), and BrowserIter fields cannot be set from Python. Navigation
# therefore reads node ids with ctypes; the Python iters the other calls need
# are collected from InfBrowser::node-added (see Driver.on_node_added).
class _CIter(ctypes.Structure):
    _fields_ = [("node_id", ctypes.c_uint), ("node", ctypes.c_void_p)]


for _fn in ("inf_browser_get_child", "inf_browser_get_next"):
    getattr(_inf, _fn).restype = ctypes.c_int
    getattr(_inf, _fn).argtypes = [ctypes.c_void_p, ctypes.POINTER(_CIter)]

# InfSaslContextSession is a "foreign" struct to PyGObject: a Python SASL
# callback cannot even be called ("Couldn't find foreign struct converter").
# The callback and the two calls it makes therefore go through ctypes.
_SaslCallback = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p)
_inf.inf_sasl_context_set_callback.restype = None
_inf.inf_sasl_context_set_callback.argtypes = [ctypes.c_void_p, _SaslCallback, ctypes.c_void_p, ctypes.c_void_p]
_inf.inf_sasl_context_session_set_property.restype = None
_inf.inf_sasl_context_session_set_property.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_char_p]
_inf.inf_sasl_context_session_continue.restype = None
_inf.inf_sasl_context_session_continue.argtypes = [ctypes.c_void_p, ctypes.c_int]
_inf.inf_sasl_context_unref.restype = None
_inf.inf_sasl_context_unref.argtypes = [ctypes.c_void_p]
_gobj.g_object_get.restype = None
_gobj.g_object_get.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p), ctypes.c_void_p]

# A client certificate (Gobby's "Use a certificate" preference): InfCertificateCredentials are
# GnuTLS certificate credentials, which GI cannot reach (inf_certificate_credentials_get returns
# a gnutls type, and the boxed wrapper has no get()). They are made and filled through ctypes and
# given to the connection as its "credentials" property before the TLS handshake, where
# inf_xmpp_connection_tls_init uses them instead of making empty ones.
_inf.inf_certificate_credentials_new.restype = ctypes.c_void_p
_inf.inf_certificate_credentials_new.argtypes = []
_inf.inf_certificate_credentials_get.restype = ctypes.c_void_p
_inf.inf_certificate_credentials_get.argtypes = [ctypes.c_void_p]
_inf.inf_certificate_credentials_unref.restype = None
_inf.inf_certificate_credentials_unref.argtypes = [ctypes.c_void_p]
_gobj.g_object_set.restype = None
_gobj.g_object_set.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p, ctypes.c_void_p]
_gnutls = ctypes.CDLL("libgnutls.so.30")
_gnutls.gnutls_certificate_set_x509_key_file.restype = ctypes.c_int
_gnutls.gnutls_certificate_set_x509_key_file.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_int]
_gnutls.gnutls_strerror.restype = ctypes.c_char_p
_gnutls.gnutls_strerror.argtypes = [ctypes.c_int]
GNUTLS_X509_FMT_PEM = 1


def set_client_certificate(xmpp, cert_file, key_file):
    """Gives `xmpp` credentials holding the certificate chain in `cert_file` and its key."""
    creds = _inf.inf_certificate_credentials_new()
    try:
        res = _gnutls.gnutls_certificate_set_x509_key_file(
            _inf.inf_certificate_credentials_get(creds), cert_file.encode("utf-8"),
            key_file.encode("utf-8"), GNUTLS_X509_FMT_PEM)
        if res < 0:
            raise DriverError("client certificate %s / key %s: %s" % (
                cert_file, key_file, _gnutls.gnutls_strerror(res).decode("utf-8", "replace")))
        # The property holds its own reference (g_value_dup_boxed).
        _gobj.g_object_set(gobject_ptr(xmpp), b"credentials", creds, None)
    finally:
        _inf.inf_certificate_credentials_unref(creds)


def _text_session_new(io, manager, status, sync_group, sync_connection, path, user_data):
    # Same as Gobby's text plugin and inf-test-mass-join.c: a UTF-8
    # InfTextDefaultBuffer wrapped in an InfTextSession (ownership passes to
    # the browser).
    buf = _inftext.inf_text_default_buffer_new(b"UTF-8")
    sess = _inftext.inf_text_session_new(manager, buf, io, status, sync_group, sync_connection)
    _gobj.g_object_unref(buf)
    return sess


_SESSION_NEW_CB = _SessionNew(_text_session_new)
_TEXT_PLUGIN = _NotePlugin(None, b"InfText", _SESSION_NEW_CB)

# gsasl.h property and return codes used by the SASL callback.
GSASL_OK = 0
GSASL_NO_CALLBACK = 51
GSASL_AUTHID = 1
GSASL_PASSWORD = 3
GSASL_ANONYMOUS_TOKEN = 4

SECURITY = {
    "no-tls": Infinity.XmppConnectionSecurityPolicy.ONLY_UNSECURED,
    "allow-tls": Infinity.XmppConnectionSecurityPolicy.BOTH_PREFER_TLS,
    "require-tls": Infinity.XmppConnectionSecurityPolicy.ONLY_TLS,
}
STATUS_NAMES = {
    Infinity.UserStatus.ACTIVE: "active",
    Infinity.UserStatus.INACTIVE: "inactive",
    Infinity.UserStatus.UNAVAILABLE: "unavailable",
}

# --------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------


def emit(obj):
    # ensure_ascii keeps the pipe 7-bit; JSON.parse restores astral
    # characters from the surrogate-pair escapes.
    try:
        sys.stdout.write(json.dumps(obj, ensure_ascii=True) + "\n")
        sys.stdout.flush()
    except BrokenPipeError:
        # Nobody reads our answers any more: the harness is gone, so are we.
        os._exit(0)


def log(msg):
    sys.stderr.write("infdriver: %s\n" % msg)
    sys.stderr.flush()


class DriverError(Exception):
    pass


def gerror_text(err):
    """'<domain> <code>: <message>' from a GLib.Error (as sent on the wire)."""
    domain = getattr(err, "domain", None) or "UNKNOWN"
    return "%s %d: %s" % (domain, getattr(err, "code", -1), getattr(err, "message", str(err)))


# --------------------------------------------------------------------------
# A tiny callback-to-generator bridge, so each command reads top to bottom.
# --------------------------------------------------------------------------


class Future(object):
    def __init__(self, what=""):
        self.what = what
        self.done = False
        self.value = None
        self.error = None
        self._cbs = []

    def resolve(self, value=None):
        if not self.done:
            self.done, self.value = True, value
            self._fire()

    def reject(self, error):
        if not self.done:
            self.done, self.error = True, error
            self._fire()

    def then(self, cb):
        if self.done:
            cb(self)
        else:
            self._cbs.append(cb)

    def _fire(self):
        cbs, self._cbs = self._cbs, []
        for cb in cbs:
            cb(self)


def run_command(cid, gen, timeout_ms):
    """Drive generator `gen` (yielding Futures) and answer command `cid` once."""
    state = {"finished": False, "timer": 0}

    def finish(result, error):
        if state["finished"]:
            return
        state["finished"] = True
        if state["timer"]:
            GLib.source_remove(state["timer"])
            state["timer"] = 0
        if error is None:
            out = {"id": cid, "ok": True}
            out.update(result or {})
        else:
            out = {"id": cid, "ok": False, "error": error}
        emit(out)

    def step(value=None, exc=None):
        if state["finished"]:
            return
        try:
            fut = gen.throw(exc) if exc is not None else gen.send(value)
        except StopIteration as stop:
            finish(stop.value, None)
            return
        except DriverError as e:
            finish(None, str(e))
            return
        except GLib.Error as e:
            finish(None, gerror_text(e))
            return
        except Exception as e:  # a bug in the driver: say so, keep running
            log(traceback.format_exc())
            finish(None, "driver exception: %r" % (e,))
            return
        fut.then(lambda f: step(f.value, f.error))

    def on_timeout():
        state["timer"] = 0
        finish(None, "timeout: command did not finish within %d ms" % timeout_ms)
        try:
            gen.close()
        except Exception:
            pass
        return False

    state["timer"] = GLib.timeout_add(timeout_ms, on_timeout)
    step()


def request_future(what, start, extract=None, returns_borrowed=False):
    """Start an InfBrowser/InfSessionProxy request; resolve with extract(result).

    An InfRequestResult is only valid inside the callback, hence `extract`.
    returns_borrowed: the function's GIR says "transfer full" but it returns
    a borrowed request (inf_text_session_join_user() passes on the result of
    inf_session_proxy_join_user(), which is transfer none); without an extra
    reference PyGObject's unref frees the pending request -> crash."""
    fut = Future(what)

    def done(_request, result, error, *_ud):
        if error is not None:
            fut.reject(DriverError(gerror_text(error)))
        else:
            try:
                fut.resolve(extract(result) if extract else None)
            except Exception as e:
                fut.reject(DriverError("%s: cannot read result: %r" % (what, e)))

    req = start(done)
    if returns_borrowed and req is not None:
        _gobj.g_object_ref(gobject_ptr(req))
    return fut


def signal_future(obj, ok_signals, fail_signals=(), what=""):
    """Resolve on the first of ok_signals, reject on the first of fail_signals."""
    fut = Future(what)
    ids = []

    def disconnect():
        for h in ids:
            if obj.handler_is_connected(h):
                obj.disconnect(h)

    def ok(*args):
        disconnect()
        fut.resolve(args)

    def fail(*args):
        disconnect()
        err = next((a for a in args if isinstance(a, GLib.Error)), None)
        fut.reject(DriverError(gerror_text(err) if err else "%s failed" % what))

    for s in ok_signals:
        ids.append(obj.connect_after(s, ok))
    for s in fail_signals:
        ids.append(obj.connect_after(s, fail))
    return fut


def sync_progress_future(session, connection):
    """Resolves with the fraction done at the first synchronization-progress of `session` with
    `connection`, from an idle callback (so the caller may close the session then, and before
    the main loop reads on)."""
    fut = Future("synchronization progress")
    ids = []

    def progress(_session, conn, fraction):
        if connection is not None and conn != connection:
            return
        for h in ids:
            if session.handler_is_connected(h):
                session.disconnect(h)
        # High priority: before the main loop reads more of the synchronisation.
        GLib.idle_add(lambda: fut.resolve(fraction) or False, priority=GLib.PRIORITY_HIGH)

    def failed(_session, _conn, error):
        for h in ids:
            if session.handler_is_connected(h):
                session.disconnect(h)
        fut.reject(DriverError(gerror_text(error)))

    ids.append(session.connect_after("synchronization-progress", progress))
    ids.append(session.connect_after("synchronization-failed", failed))
    return fut


def resolved(value=None):
    f = Future()
    f.resolve(value)
    return f


# --------------------------------------------------------------------------
# Text helpers
# --------------------------------------------------------------------------


def chunk_segments(chunk):
    """[[author, text], ...] of an InfTextChunk, adjacent equal authors merged."""
    out = []
    ok, it = chunk.iter_init_begin()
    while ok:
        nbytes = it.get_bytes()
        raw = ctypes.string_at(it.get_text(), nbytes) if nbytes else b""
        text = raw.decode("utf-8")
        author = it.get_author()
        if text:
            if out and out[-1][0] == author:
                out[-1][1] += text
            else:
                out.append([author, text])
        ok = it.next()
    return out


def buffer_segments(buf):
    n = buf.get_length()
    return chunk_segments(buf.get_slice(0, n)) if n else []


def buffer_text(buf):
    return "".join(t for _a, t in buffer_segments(buf))


def user_info(user, local_ids):
    info = {"id": user.get_id(), "name": user.get_name(),
            "status": STATUS_NAMES.get(user.get_status(), str(user.get_status())),
            "local": user.get_id() in local_ids}
    if isinstance(user, InfText.User):
        info["hue"] = user.get_hue()
        info["caret"] = user.get_caret_position()
    return info


# --------------------------------------------------------------------------
# The client
# --------------------------------------------------------------------------


class Doc(object):
    """A subscribed text session (one per path)."""

    def __init__(self, path, proxy):
        self.path = path
        self.proxy = proxy
        self.session = proxy.props.session
        self.buffer = self.session.get_buffer()
        self.user = None
        self.handlers = []


class Driver(object):
    def __init__(self, loop):
        self.loop = loop
        self.io = InfGtk.Io.new()
        self.manager = None
        self.xmpp = None
        self.browser = None
        self.docs = {}
        self.keep = []           # objects that must outlive a request (sync-in sessions)
        self.last_error = None
        self.chat = None         # (proxy, session, user)
        self.user = "infdriver"
        self.password = None
        self.iters = {}          # node id -> InfBrowserIter (from node-added)

    # ---- plumbing -------------------------------------------------------
    def need_browser(self):
        if self.browser is None or self.browser.get_property("status") != Infinity.BrowserStatus.OPEN:
            raise DriverError("not connected")
        return self.browser

    def on_node_added(self, _browser, it, _request):
        self.iters[it.node_id] = it.copy()

    def on_node_removed(self, _browser, it, _request):
        self.iters.pop(it.node_id, None)

    def children(self, it):
        """Python iters of the (explored) children of `it`, in browser order."""
        out = []
        ci = _CIter(it.node_id, it.node)
        ok = _inf.inf_browser_get_child(gobject_ptr(self.browser), ctypes.byref(ci))
        while ok:
            child = self.iters.get(ci.node_id)
            if child is None:
                raise DriverError("node %d was never announced by node-added" % ci.node_id)
            out.append(child)
            ok = _inf.inf_browser_get_next(gobject_ptr(self.browser), ctypes.byref(ci))
        return out

    def walk(self, path, explore_last=False):
        """Generator: iter of `path` ('/' = root), exploring parents as needed."""
        browser = self.need_browser()
        ok, it = browser.get_root()
        parts = [p for p in path.split("/") if p]
        for i, name in enumerate(parts):
            yield self.ensure_explored(it)
            found = None
            for child in self.children(it):
                if browser.get_node_name(child) == name:
                    found = child
                    break
            if found is None:
                raise DriverError("no such node: %s (at %r)" % (path, "/" + "/".join(parts[:i + 1])))
            it = found
        if explore_last:
            yield self.ensure_explored(it)
        return it

    def ensure_explored(self, it):
        browser = self.need_browser()
        if not browser.is_subdirectory(it):
            raise DriverError("not a subdirectory: %s" % browser.get_path(it))
        if browser.get_explored(it):
            return resolved()
        pending = browser.get_pending_request(it, "explore-node")
        if pending is not None:
            return signal_future(pending, ["finished"], what="explore")
        return request_future("explore", lambda cb: browser.explore(it, cb))

    def split(self, path):
        parts = [p for p in path.split("/") if p]
        if not parts:
            raise DriverError("path must name a node below the root: %r" % path)
        return "/" + "/".join(parts[:-1]), parts[-1]

    def doc(self, path):
        d = self.docs.get(norm(path))
        if d is None:
            raise DriverError("not subscribed: %s" % path)
        return d

    def joined(self, path):
        d = self.doc(path)
        if d.user is None:
            raise DriverError("no local user joined in %s" % path)
        return d

    # ---- commands -------------------------------------------------------
    def cmd_connect(self, p):
        if self.browser is not None:
            raise DriverError("already connected")
        host = p.get("host", "127.0.0.1")
        port = int(p["port"])
        policy = SECURITY.get(p.get("security", "no-tls"))
        if policy is None:
            raise DriverError("security must be one of %s" % ", ".join(SECURITY))
        self.user = p.get("user", "infdriver")
        self.password = p.get("password")

        addr = Infinity.IpAddress.new_from_string(host)
        if addr is None:
            raise DriverError("not an IP address: %r" % host)
        tcp = Infinity.TcpConnection.new(self.io, addr, port)
        # Gobby answers the SASL callback with the user name (ANONYMOUS token
        # and PLAIN authcid) and the password (auth-commands.cpp).
        sasl = Infinity.SaslContext.new()
        self.xmpp = Infinity.XmppConnection.new(
            tcp, Infinity.XmppConnectionSite.CLIENT, None, p.get("hostname", "localhost"),
            policy, None, sasl, "ANONYMOUS PLAIN")
        # No certificate callback is installed (the GI binding does not offer
        # inf_xmpp_connection_set_certificate_callback): without one
        # inf_xmpp_connection_tls_handshake() accepts the server's
        # certificate as is, which is what a self-signed test server needs.
        if p.get("cert") or p.get("key"):
            if not (p.get("cert") and p.get("key")):
                raise DriverError("a client certificate needs both cert and key")
            set_client_certificate(self.xmpp, p["cert"], p["key"])
        self.xmpp.connect("error", self.on_conn_error)
        self.install_sasl_callback()
        self.manager = Infinity.CommunicationManager.new()
        self.browser = Infinityc.Browser.new(self.io, self.manager, self.xmpp)
        if not _inf.infc_browser_add_plugin(gobject_ptr(self.browser), ctypes.addressof(_TEXT_PLUGIN)):
            raise DriverError("infc_browser_add_plugin failed")
        self.browser.connect("error", self.on_conn_error)
        self.browser.connect("notify::status", self.on_browser_status)
        self.browser.connect("node-added", self.on_node_added)
        self.browser.connect("node-removed", self.on_node_removed)
        self.last_error = None
        opened = Future("connect")
        self._opening = opened
        tcp.open()   # raises GLib.Error when the socket cannot be created
        self.on_browser_status(self.browser, None)
        try:
            yield opened
        except Exception:
            # Leave the driver reusable: a later connect starts afresh.
            self.drop_connection()
            raise
        return {"tls": bool(self.xmpp.get_property("tls-enabled")), "account": self.local_account()}

    def local_account(self):
        """The ACL account the server has the connection logged into (welcome, change-acl-account)."""
        account = self.browser.get_acl_local_account()
        if account is None:
            return None
        return {"id": Infinity.AclAccount.id_to_string(account.id), "name": account.name}

    def install_sasl_callback(self):
        # The context the connection holds (same boxed instance, one more ref).
        ctx = ctypes.c_void_p()
        _gobj.g_object_get(gobject_ptr(self.xmpp), b"sasl-context", ctypes.byref(ctx), None)
        if not ctx.value:
            raise DriverError("XMPP connection has no SASL context")
        self._sasl_cb = _SaslCallback(self.on_sasl)   # keep alive as long as the context
        _inf.inf_sasl_context_set_callback(ctx.value, self._sasl_cb, None, None)
        _inf.inf_sasl_context_unref(ctx.value)

    def drop_connection(self):
        xmpp, self.xmpp, self.browser, self.docs, self.iters = self.xmpp, None, None, {}, {}
        self._opening = None
        if xmpp is not None and xmpp.get_property("status") in (
                Infinity.XmlConnectionStatus.OPENING, Infinity.XmlConnectionStatus.OPEN):
            xmpp.close()

    def on_sasl(self, session, prop, _session_data, _user_data):
        try:
            if prop in (GSASL_ANONYMOUS_TOKEN, GSASL_AUTHID):
                _inf.inf_sasl_context_session_set_property(session, prop, self.user.encode("utf-8"))
                _inf.inf_sasl_context_session_continue(session, GSASL_OK)
            elif prop == GSASL_PASSWORD:
                _inf.inf_sasl_context_session_set_property(session, prop, (self.password or "").encode("utf-8"))
                _inf.inf_sasl_context_session_continue(session, GSASL_OK)
            else:
                _inf.inf_sasl_context_session_continue(session, GSASL_NO_CALLBACK)
        except Exception:
            log(traceback.format_exc())
            _inf.inf_sasl_context_session_continue(session, GSASL_NO_CALLBACK)

    def on_conn_error(self, _obj, error):
        self.last_error = gerror_text(error)
        emit({"event": "connection-error", "error": self.last_error})

    def on_browser_status(self, browser, _pspec):
        status = browser.get_property("status")
        opening = getattr(self, "_opening", None)
        if status == Infinity.BrowserStatus.OPEN and opening is not None:
            self._opening = None
            opening.resolve()
        elif status == Infinity.BrowserStatus.CLOSED:
            if opening is not None:
                self._opening = None
                opening.reject(DriverError(self.last_error or "connection closed while connecting"))
            if _pspec is not None:
                emit({"event": "disconnected", "error": self.last_error})

    def cmd_explore(self, p):
        browser = self.need_browser()
        it = yield from self.walk(p.get("path", "/"), explore_last=True)
        children = []
        for child in self.children(it):
            sub = browser.is_subdirectory(child)
            children.append({"name": browser.get_node_name(child),
                             "type": "InfSubdirectory" if sub else browser.get_node_type(child)})
        return {"children": children}

    def cmd_mkdir(self, p):
        browser = self.need_browser()
        parent_path, name = self.split(p["path"])
        parent = yield from self.walk(parent_path, explore_last=True)
        yield request_future("add-subdirectory",
                             lambda cb: browser.add_subdirectory(parent, name, None, cb))
        return {}

    def cmd_create(self, p):
        browser = self.need_browser()
        parent_path, name = self.split(p["path"])
        parent = yield from self.walk(parent_path, explore_last=True)
        text = p.get("text")
        if text is None or text == "":
            yield request_future("add-note",
                                 lambda cb: browser.add_note(parent, name, "InfText", None, None, False, cb))
            return {}
        # sync-in (protocol.md 3.7): a local running session holding the text
        # is uploaded with the new node, as Gobby does for "Open/Upload".
        buf = InfText.DefaultBuffer.new("UTF-8")
        raw = text.encode("utf-8")
        cbuf = ctypes.create_string_buffer(raw, len(raw) + 1)
        author = int(p.get("author", 0))
        chunk = InfText.Chunk.new("UTF-8")
        chunk.insert_text(0, ctypes.addressof(cbuf), len(raw), len(text), author)
        buf.insert_chunk(0, chunk, None)
        session = InfText.Session.new(self.manager, buf, self.io, Infinity.SessionStatus.RUNNING, None, None)
        self.keep.append((session, buf))
        yield request_future("add-note (sync-in)",
                             lambda cb: browser.add_note(parent, name, "InfText", None, session, False, cb))
        # The node exists now; wait until the server acknowledged the upload.
        conn = self.xmpp
        if session.get_synchronization_status(conn) != Infinity.SessionSyncStatus.NONE:
            yield signal_future(session, ["synchronization-complete"], ["synchronization-failed"], "sync-in")
        return {}

    def cmd_remove(self, p):
        browser = self.need_browser()
        it = yield from self.walk(p["path"])
        if it.node_id == 0:
            raise DriverError("the root node cannot be removed")
        yield request_future("remove-node", lambda cb: browser.remove_node(it, cb))
        self.docs.pop(norm(p["path"]), None)
        return {}

    def cmd_subscribe(self, p):
        """Subscribes to `path` and waits for its synchronisation. With "summary": true the
        answer has the text's length (code points) and sha256 instead of the text, and
        "ms", the time from the subscribe request to the complete synchronisation (the
        benchmark's Gobby client, bench/server)."""
        browser = self.need_browser()
        path = norm(p["path"])
        if path in self.docs:
            raise DriverError("already subscribed: %s" % path)
        it = yield from self.walk(path)
        started = time.monotonic()
        if browser.is_subdirectory(it):
            raise DriverError("not a document: %s" % path)
        proxy = browser.get_session(it)
        if proxy is None:
            pending = browser.get_pending_request(it, "subscribe-session")
            if pending is not None:
                yield signal_future(pending, ["finished"], what="subscribe")
            else:
                yield request_future("subscribe-session", lambda cb: browser.subscribe(it, cb))
            proxy = browser.get_session(it)
        if proxy is None:
            raise DriverError("subscription finished without a session")
        session = proxy.props.session
        if session.get_status() in (Infinity.SessionStatus.PRESYNC, Infinity.SessionStatus.SYNCHRONIZING):
            yield signal_future(session, ["synchronization-complete"], ["synchronization-failed"], "synchronization")
        if session.get_status() != Infinity.SessionStatus.RUNNING:
            raise DriverError("session is not running after subscription")
        ms = (time.monotonic() - started) * 1000
        d = Doc(path, proxy)
        self.attach(d)
        self.docs[path] = d
        if p.get("summary"):
            text = buffer_text(d.buffer)
            return {"ms": ms, "length": len(text), "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest()}
        return {"text": buffer_text(d.buffer), "segments": buffer_segments(d.buffer)}

    def cmd_subscribe_cancel(self, p):
        """Subscribes to `path` and closes the session once its synchronisation has made
        progress: the client, the receiver, cancels it with <sync-error> RECEIVER_CANCELLED
        (inf_session_close_handler -> inf_session_cancel_synchronization)."""
        browser = self.need_browser()
        path = norm(p["path"])
        it = yield from self.walk(path)
        if browser.get_session(it) is not None:
            raise DriverError("already subscribed: %s" % path)
        yield request_future("subscribe-session", lambda cb: browser.subscribe(it, cb))
        proxy = browser.get_session(it)
        if proxy is None:
            raise DriverError("subscription finished without a session")
        session = proxy.props.session
        progress = yield sync_progress_future(session, session.get_property("sync-connection"))
        if session.get_status() != Infinity.SessionStatus.SYNCHRONIZING:
            raise DriverError("the synchronisation was over before it could be cancelled")
        session.close()
        return {"progress": progress}

    def cmd_create_cancel(self, p):
        """Uploads `text` as new document `path` (sync-in) and closes the local session once the
        upload has made progress: the client, the synchroniser, cancels it with <sync-cancel/>
        (inf_session_cancel_synchronization while the sync is in progress)."""
        browser = self.need_browser()
        parent_path, name = self.split(p["path"])
        parent = yield from self.walk(parent_path, explore_last=True)
        buf = InfText.DefaultBuffer.new("UTF-8")
        text = p["text"]
        raw = text.encode("utf-8")
        cbuf = ctypes.create_string_buffer(raw, len(raw) + 1)
        chunk = InfText.Chunk.new("UTF-8")
        chunk.insert_text(0, ctypes.addressof(cbuf), len(raw), len(text), int(p.get("author", 0)))
        buf.insert_chunk(0, chunk, None)
        session = InfText.Session.new(self.manager, buf, self.io, Infinity.SessionStatus.RUNNING, None, None)
        self.keep.append((session, buf))
        # The sync starts when the server's sync-in reply arrives, before the request finishes.
        conn = self.xmpp
        progress = sync_progress_future(session, conn)
        request_future("add-note (sync-in)", lambda cb: browser.add_note(parent, name, "InfText", None, session, False, cb))
        done = yield progress
        if session.get_synchronization_status(conn) != Infinity.SessionSyncStatus.IN_PROGRESS:
            raise DriverError("the upload was over before it could be cancelled")
        session.close()
        return {"progress": done}

    def attach(self, d):
        def inserted(_buf, pos, chunk, user):
            emit({"event": "text-changed", "path": d.path, "kind": "insert", "pos": pos,
                  "text": "".join(t for _a, t in chunk_segments(chunk)),
                  "user": user.get_name() if user else None})

        def erased(_buf, pos, chunk, user):
            emit({"event": "text-changed", "path": d.path, "kind": "erase", "pos": pos,
                  "len": chunk.get_length(), "user": user.get_name() if user else None})

        def closed(_session):
            emit({"event": "session-closed", "path": d.path})
            self.docs.pop(d.path, None)

        d.handlers.append((d.buffer, d.buffer.connect_after("text-inserted", inserted)))
        d.handlers.append((d.buffer, d.buffer.connect_after("text-erased", erased)))
        d.handlers.append((d.session, d.session.connect_after("close", closed)))

    def cmd_join(self, p):
        d = self.doc(p["path"])
        if d.user is not None:
            raise DriverError("already joined as %s" % d.user.get_name())
        name = p.get("name", self.user)
        hue = float(p.get("hue", 0.0))
        status = Infinity.UserStatus.INACTIVE if p.get("status") == "inactive" else Infinity.UserStatus.ACTIVE
        caret = int(p.get("caret", 0))
        # inf_text_session_join_user() sends exactly Gobby's user-join
        # (name, status, time, caret, hue; protocol.md 5.2).
        user = yield request_future(
            "user-join",
            lambda cb: InfText.Session.join_user(d.proxy, name, status, hue, caret, 0, cb),
            lambda r: r.get_join_user()[1], returns_borrowed=True)
        d.user = user
        return {"user": user_info(user, {user.get_id()})}

    def cmd_leave(self, p):
        d = self.joined(p["path"])
        d.session.set_user_status(d.user, Infinity.UserStatus.UNAVAILABLE)
        d.user = None
        return {}
        yield  # noqa: unreachable, makes this a generator

    def cmd_unsubscribe(self, p):
        d = self.doc(p["path"])
        for obj, h in d.handlers:
            if obj.handler_is_connected(h):
                obj.disconnect(h)
        self.docs.pop(d.path, None)
        d.session.close()
        return {}
        yield  # noqa

    def cmd_insert(self, p):
        d = self.joined(p["path"])
        pos, text = int(p["pos"]), p["text"]
        length = d.buffer.get_length()
        if p.get("clamp"):
            # For random concurrent tests: a remote edit may have shrunk the document since
            # the caller chose the position.
            pos = max(0, min(pos, length))
        if pos < 0 or pos > length:
            raise DriverError("position %d outside the document (length %d)" % (pos, length))
        if text:
            raw = text.encode("utf-8")
            cbuf = ctypes.create_string_buffer(raw, len(raw) + 1)
            # Positions and lengths are code points (protocol.md 5.5); a
            # Python str indexes code points already.
            d.buffer.insert_text(pos, ctypes.addressof(cbuf), len(raw), len(text), d.user)
        return {"length": d.buffer.get_length(), "pos": pos}
        yield  # noqa

    def cmd_delete(self, p):
        d = self.joined(p["path"])
        pos, n = int(p["pos"]), int(p["len"])
        length = d.buffer.get_length()
        if p.get("clamp"):
            pos = max(0, min(pos, length))
            n = max(0, min(n, length - pos))
        if pos < 0 or n < 0 or pos + n > length:
            raise DriverError("range %d+%d outside the document (length %d)" % (pos, n, length))
        if n:
            d.buffer.erase_text(pos, n, d.user)
        return {"length": d.buffer.get_length(), "pos": pos, "len": n}
        yield  # noqa

    def _undo_redo(self, p, redo):
        d = self.joined(p["path"])
        n = int(p.get("n", 1))
        alg = d.session.get_algorithm()
        for _ in range(n):
            can = alg.can_redo(d.user) if redo else alg.can_undo(d.user)
            if not can:
                raise DriverError("nothing to %s" % ("redo" if redo else "undo"))
            (d.session.redo if redo else d.session.undo)(d.user, 1)
        return {"length": d.buffer.get_length()}

    def cmd_undo(self, p):
        return self._undo_redo(p, False)
        yield  # noqa

    def cmd_redo(self, p):
        return self._undo_redo(p, True)
        yield  # noqa

    def cmd_text(self, p):
        d = self.doc(p["path"])
        segs = buffer_segments(d.buffer)
        return {"text": "".join(t for _a, t in segs), "segments": segs}
        yield  # noqa

    def cmd_wait_text(self, p):
        d = self.doc(p["path"])
        want = p["text"]
        if buffer_text(d.buffer) != want:
            fut = Future("wait_text")

            def check(*_a):
                if buffer_text(d.buffer) == want:
                    fut.resolve()

            hs = [d.buffer.connect_after("text-inserted", check),
                  d.buffer.connect_after("text-erased", check)]
            try:
                yield fut
            finally:
                for h in hs:
                    d.buffer.disconnect(h)
        segs = buffer_segments(d.buffer)
        return {"text": want, "segments": segs}

    def cmd_users(self, p):
        d = self.doc(p["path"])
        users = []
        d.session.get_user_table().foreach_user(lambda u, *_: users.append(u), None)
        local = {d.user.get_id()} if d.user is not None else set()
        return {"users": sorted((user_info(u, local) for u in users), key=lambda x: x["id"])}
        yield  # noqa

    def cmd_chat_subscribe(self, p):
        browser = self.need_browser()
        if self.chat is not None or browser.get_chat_session() is not None:
            raise DriverError("already subscribed to the chat")
        yield request_future("subscribe-chat", lambda cb: browser.subscribe_chat(cb))
        proxy = browser.get_chat_session()
        if proxy is None:
            raise DriverError("subscribe-chat finished without a session")
        session = proxy.props.session
        if session.get_status() in (Infinity.SessionStatus.PRESYNC, Infinity.SessionStatus.SYNCHRONIZING):
            yield signal_future(session, ["synchronization-complete"], ["synchronization-failed"], "chat sync")
        buf = session.get_buffer()
        backlog = [chat_message_info(buf.get_message(i)) for i in range(buf.get_n_messages())]

        def added(_buf, msg):
            emit(dict(chat_message_info(msg), event="chat"))

        buf.connect_after("add-message", added)
        name = p.get("name", self.user)
        user = yield chat_join(proxy, session, name)
        self.chat = (proxy, session, user)
        return {"user": user_info(user, {user.get_id()}), "backlog": backlog}

    def cmd_chat_send(self, p):
        if self.chat is None:
            raise DriverError("not subscribed to the chat")
        _proxy, session, user = self.chat
        text = p["text"]
        flags = Infinity.ChatBufferMessageFlags(0)
        buf = session.get_buffer()
        raw = text.encode("utf-8")
        # The GI binding wants the (gchar*, gsize) text as a list of 1-char
        # strings and rejects UTF-8 bytes; call the C function directly.
        fn = _inf.inf_chat_buffer_add_emote_message if p.get("emote") else _inf.inf_chat_buffer_add_message
        fn.restype = None
        fn.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t,
                       ctypes.c_int64, ctypes.c_uint]
        fn(gobject_ptr(buf), gobject_ptr(user), raw, len(raw), GLib.get_real_time() // 1000000, int(flags))
        return {}
        yield  # noqa

    def cmd_account(self, p):
        self.need_browser()
        return {"account": self.local_account()}
        yield  # noqa

    def cmd_ping(self, p):
        return {"pong": True}
        yield  # noqa

    def cmd_close(self, p):
        live = (Infinity.XmlConnectionStatus.OPENING, Infinity.XmlConnectionStatus.OPEN)
        xmpp = self.xmpp
        if xmpp is not None and xmpp.get_property("status") in live:
            closed = Future("close")

            def st(*_a):
                if xmpp.get_property("status") == Infinity.XmlConnectionStatus.CLOSED:
                    closed.resolve()

            xmpp.connect("notify::status", st)
            xmpp.close()
            st()
            yield closed
        GLib.idle_add(self.loop.quit)
        return {}


def norm(path):
    return "/" + "/".join(p for p in path.split("/") if p)


def chat_message_info(msg):
    kinds = {Infinity.ChatBufferMessageType.NORMAL: "normal",
             Infinity.ChatBufferMessageType.EMOTE: "emote",
             Infinity.ChatBufferMessageType.USERJOIN: "userjoin",
             Infinity.ChatBufferMessageType.USERPART: "userpart"}
    text = msg.text
    if isinstance(text, (list, bytes, bytearray)):
        text = bytes(text).decode("utf-8", "replace")
    return {"type": kinds.get(msg.type, str(msg.type)),
            "user": msg.user.get_name() if msg.user else None,
            "text": text if isinstance(text, str) else "",
            "time": msg.time}


class _GValue(ctypes.Structure):
    _fields_ = [("g_type", ctypes.c_size_t), ("data", ctypes.c_uint64 * 2)]


class _GParameter(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("value", _GValue)]


class _GError(ctypes.Structure):
    _fields_ = [("domain", ctypes.c_uint32), ("code", ctypes.c_int), ("message", ctypes.c_char_p)]


_RequestFunc = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p, ctypes.POINTER(_GError), ctypes.c_void_p)
_gobj.g_value_init.restype = ctypes.c_void_p
_gobj.g_value_init.argtypes = [ctypes.POINTER(_GValue), ctypes.c_size_t]
_gobj.g_value_set_string.argtypes = [ctypes.POINTER(_GValue), ctypes.c_char_p]
_gobj.g_value_set_enum.argtypes = [ctypes.POINTER(_GValue), ctypes.c_int]
_gobj.g_value_unset.argtypes = [ctypes.POINTER(_GValue)]
_glib = ctypes.CDLL("libglib-2.0.so.0")
_glib.g_quark_to_string.restype = ctypes.c_char_p
_glib.g_quark_to_string.argtypes = [ctypes.c_uint32]
_inf.inf_user_status_get_type.restype = ctypes.c_size_t
_inf.inf_session_proxy_join_user.restype = ctypes.c_void_p
_inf.inf_session_proxy_join_user.argtypes = [ctypes.c_void_p, ctypes.c_uint, ctypes.POINTER(_GParameter),
                                             _RequestFunc, ctypes.c_void_p]
_inf.inf_request_result_get_join_user.restype = None
_inf.inf_request_result_get_join_user.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p),
                                                  ctypes.POINTER(ctypes.c_void_p)]
_inf.inf_user_get_id.restype = ctypes.c_uint
_inf.inf_user_get_id.argtypes = [ctypes.c_void_p]
G_TYPE_STRING = 16 << 2
_live_callbacks = []


def chat_join(proxy, session, name):
    """user-join in a chat session (name + status only, protocol.md 5.9).

    inf_session_proxy_join_user() takes a GParameter array, which PyGObject
    cannot build (GValue fields are not settable), so this goes through
    ctypes; the Python InfUser is then taken from the session's user table."""
    fut = Future("user-join (chat)")
    params = (_GParameter * 2)()
    params[0].name = b"name"
    _gobj.g_value_init(ctypes.byref(params[0].value), G_TYPE_STRING)
    _gobj.g_value_set_string(ctypes.byref(params[0].value), name.encode("utf-8"))
    params[1].name = b"status"
    _gobj.g_value_init(ctypes.byref(params[1].value), _inf.inf_user_status_get_type())
    _gobj.g_value_set_enum(ctypes.byref(params[1].value), int(Infinity.UserStatus.ACTIVE))

    def done(_request, result, error, _ud):
        if cb in _live_callbacks:
            _live_callbacks.remove(cb)
        if error:
            e = error.contents
            domain = (_glib.g_quark_to_string(e.domain) or b"UNKNOWN").decode()
            fut.reject(DriverError("%s %d: %s" % (domain, e.code, (e.message or b"").decode("utf-8", "replace"))))
            return
        user_ptr = ctypes.c_void_p()
        _inf.inf_request_result_get_join_user(result, None, ctypes.byref(user_ptr))
        fut.resolve(session.get_user_table().lookup_user_by_id(_inf.inf_user_get_id(user_ptr.value)))

    cb = _RequestFunc(done)
    _live_callbacks.append(cb)   # the C side calls it later
    _inf.inf_session_proxy_join_user(gobject_ptr(proxy), 2, params, cb, None)
    for i in range(2):
        _gobj.g_value_unset(ctypes.byref(params[i].value))
    return fut


# --------------------------------------------------------------------------
# stdin loop
# --------------------------------------------------------------------------


def main():
    if not Infinity.init():
        sys.stderr.write("infdriver: inf_init() failed\n")
        return 2
    loop = GLib.MainLoop()
    driver = Driver(loop)
    pending = bytearray()

    def handle_line(line):
        try:
            msg = json.loads(line)
        except ValueError as e:
            emit({"id": None, "ok": False, "error": "bad JSON: %s" % e})
            return
        if not isinstance(msg, dict):
            emit({"id": None, "ok": False, "error": "command must be a JSON object"})
            return
        cid = msg.get("id")
        cmd = msg.get("cmd")
        fn = getattr(driver, "cmd_%s" % cmd, None) if isinstance(cmd, str) else None
        if fn is None:
            emit({"id": cid, "ok": False, "error": "unknown command: %r" % (cmd,)})
            return
        try:
            timeout = int(msg.get("timeout", 10000))
        except (TypeError, ValueError):
            timeout = 10000
        try:
            gen = fn(msg)
        except Exception as e:
            emit({"id": cid, "ok": False, "error": "driver exception: %r" % (e,)})
            return
        run_command(cid, gen, timeout)

    def on_stdin(_fd, condition):
        data = b""
        if condition & GLib.IOCondition.IN:
            try:
                data = os.read(0, 65536)
            except OSError:
                data = b""
        if not data:
            loop.quit()
            return False
        pending.extend(data)
        while True:
            nl = pending.find(b"\n")
            if nl < 0:
                break
            line = bytes(pending[:nl]).decode("utf-8", "replace").strip()
            del pending[:nl + 1]
            if line:
                handle_line(line)
        return True

    GLib.unix_fd_add_full(GLib.PRIORITY_DEFAULT, 0,
                          GLib.IOCondition.IN | GLib.IOCondition.HUP | GLib.IOCondition.ERR,
                          on_stdin)
    emit({"event": "ready", "pid": os.getpid()})
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
