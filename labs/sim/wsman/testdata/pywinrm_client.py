"""Drive a WinRM endpoint with pywinrm for the wsman tests.

Reads a JSON request on stdin (so the password never appears in argv):
  {"url", "user", "password", "transport", "encryption", "ca", "runs": [
     {"kind": "cmd"|"ps", "command", "args"}]}
and prints one JSON object with a result or an error per run.
"""
import json
import sys

import winrm


def main():
    req = json.load(sys.stdin)
    opts = {
        "auth": (req["user"], req["password"]),
        "transport": req["transport"],
        "message_encryption": req.get("encryption") or "auto",
    }
    if req.get("ca"):
        opts["server_cert_validation"] = "validate"
        opts["ca_trust_path"] = req["ca"]
    session = winrm.Session(req["url"], **opts)
    results = []
    for run in req["runs"]:
        try:
            if run["kind"] == "ps":
                r = session.run_ps(run["command"])
            else:
                r = session.run_cmd(run["command"], run.get("args", []))
            results.append({
                "stdout": r.std_out.decode("utf-8", "replace"),
                "stderr": r.std_err.decode("utf-8", "replace"),
                "code": r.status_code,
            })
        except Exception as e:  # the test asserts on the error's type and text
            results.append({"error": type(e).__name__ + ": " + str(e)})
    json.dump({"results": results}, sys.stdout)


if __name__ == "__main__":
    main()
