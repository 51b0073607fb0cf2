"""The web console in a real browser: Debian's chromium, headless, driven through chromium-driver
by selenium, against a real serve with real nodes. Sign in with the key pair (a wrong secret is
refused; the session cookie is HttpOnly and SameSite=Strict), see a cluster created through the
API with each node's name, role and zone, fail a shard over from the console and watch the roles
swap on the page, see a chart drawn from collected metrics, get a refused change's message, find
the console's calls in the audit trail under the signed-in key, sign out (the session is revoked).

With MEMORYPLANE_CONSOLE_SCREENSHOTS=<dir> the test writes screenshots of the main pages there
(the README's come from it)."""
import os
import shutil
import time

import pytest
import requests
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from memoryplane import Server

WAIT = 30


@pytest.fixture
def browser():
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    assert chromium and driver, "chromium and chromium-driver are missing: run scripts/install-deps.sh --test"
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,1000"):
        options.add_argument(argument)
    instance = webdriver.Chrome(service=Service(driver), options=options)
    try:
        yield instance
    finally:
        instance.quit()


@pytest.fixture
def console_server():
    instance = Server(extra_args=("--metrics-interval", "1"))
    try:
        yield instance.start()
    finally:
        instance.cleanup()


def screenshot(browser, name):
    directory = os.environ.get("MEMORYPLANE_CONSOLE_SCREENSHOTS")
    if directory:
        os.makedirs(directory, exist_ok=True)
        browser.save_screenshot(os.path.join(directory, f"{name}.png"))


def wait_until(browser, condition, message):
    """The page redraws what changed while it is read: a changed element is read again."""
    wait = WebDriverWait(browser, WAIT, poll_frequency=0.1, ignored_exceptions=[StaleElementReferenceException])
    return wait.until(lambda _: condition(), message)


def nodes_on_page(browser):
    return {
        element.get_attribute("data-node"): (element.get_attribute("data-role"), element.find_element(By.CLASS_NAME, "zone").text)
        for element in browser.find_elements(By.CSS_SELECTOR, "[data-node]")
    }


def sign_in(browser, key_id, secret):
    form = browser.find_element(By.ID, "sign-in")
    form.find_element(By.NAME, "accessKeyId").clear()
    form.find_element(By.NAME, "accessKeyId").send_keys(key_id)
    form.find_element(By.NAME, "secretAccessKey").clear()
    form.find_element(By.NAME, "secretAccessKey").send_keys(secret)
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()


def test_the_console_shows_a_cluster_fails_a_shard_over_and_signs_out(console_server, browser):
    server = console_server
    key_id, secret = server.credentials
    assert server.create_cluster("web", shards=2, replicas=1, wait=True).status_code == 201
    view = server.request("GET", "/v1/clusters/web").json()

    browser.get(server.url + "/")
    assert browser.current_url.endswith("/console/")
    wait_until(browser, lambda: browser.find_element(By.ID, "sign-in").is_displayed(), "no sign-in form")

    # A wrong secret is refused on the page, and no session is given.
    sign_in(browser, key_id, secret + "x")
    wait_until(browser, lambda: "wrong" in browser.find_element(By.ID, "sign-in-error").text, "a wrong secret was not refused")
    assert browser.get_cookie("memoryplane_session") is None

    sign_in(browser, key_id, secret)
    wait_until(browser, lambda: browser.find_elements(By.CSS_SELECTOR, "[data-cluster='web']"), "the cluster never appeared")
    cookie = browser.get_cookie("memoryplane_session")
    assert cookie["httpOnly"] is True and cookie["sameSite"] == "Strict"
    assert browser.execute_script("return document.cookie") == ""
    screenshot(browser, "clusters")

    # The cluster's page: every node with its role and zone, as the API has them.
    browser.find_element(By.CSS_SELECTOR, "[data-cluster='web']").click()
    expected = {node["name"]: (node["role"], node["availabilityZone"]) for shard in view["shards"] for node in shard["nodes"]}
    wait_until(browser, lambda: nodes_on_page(browser) == expected, f"topology differs: {nodes_on_page(browser)} vs {expected}")
    # As a reader (or a script reading the page's text) sees them, in the API's words.
    shown = browser.find_element(By.ID, "topology").text
    for name, (role, zone) in expected.items():
        assert f"{name} {role}" in shown and zone in shown, shown

    # A chart drawn from collected metrics.
    wait_until(browser, lambda: browser.find_elements(By.CSS_SELECTOR, "[data-chart] polyline"), "no chart has data")

    # FailoverShard from the console: the page shows the replica as the new primary.
    shard = view["shards"][0]
    old_primary = next(node["name"] for node in shard["nodes"] if node["role"] == "primary")
    replica = next(node["name"] for node in shard["nodes"] if node["role"] == "replica")
    browser.find_element(By.CSS_SELECTOR, f"[data-failover='{shard['name']}']").click()
    wait_until(browser, lambda: nodes_on_page(browser).get(replica, ("",))[0] == "primary"
               and nodes_on_page(browser).get(old_primary, ("",))[0] == "replica", "the roles never swapped on the page")
    screenshot(browser, "cluster")

    # A refused change shows the API's message.
    form_input = browser.find_element(By.ID, "a-replicas")
    form_input.send_keys("9")
    form_input.submit()
    wait_until(browser, lambda: "numReplicasPerShard" in browser.find_element(By.ID, "toast").text, "the refusal was not shown")

    # The console's calls are in the audit trail under the signed-in key, door console.
    audit = server.request("GET", "/v1/audit?door=console").json()["events"]
    failover = [entry for entry in audit if entry["operation"].endswith("/failover")]
    assert failover and failover[0]["accessKeyId"] == key_id and failover[0]["outcome"] == "success", audit
    # Both sign-ins are there, the refused one too, and neither records the secret.
    sign_ins = [entry for entry in audit if entry["operation"] == "POST /console/session"]
    assert [entry["outcome"] for entry in sign_ins] == ["success", "InvalidCredentialsException"], sign_ins
    assert all(entry["accessKeyId"] == key_id and entry["parameters"] == "{}" for entry in sign_ins)
    assert secret not in str(audit)

    # Signing out revokes the session: the old cookie no longer opens the API.
    session = cookie["value"]
    browser.find_element(By.ID, "sign-out").click()
    wait_until(browser, lambda: browser.find_element(By.ID, "sign-in").is_displayed(), "sign-out did not show the sign-in form")
    refused = requests.get(server.url + "/v1/clusters", cookies={"memoryplane_session": session}, timeout=10)
    assert refused.status_code == 401, refused.text


def test_a_change_without_the_csrf_token_is_refused(server):
    key_id, secret = server.credentials
    signed_in = requests.post(server.url + "/console/session", json={"accessKeyId": key_id, "secretAccessKey": secret}, timeout=10)
    assert signed_in.status_code == 200
    assert "HttpOnly" in signed_in.headers["Set-Cookie"] and "SameSite=Strict" in signed_in.headers["Set-Cookie"]
    cookies = signed_in.cookies
    body = {"name": "c", "nodeType": "db.t4g.small", "aclName": "open-access", "tlsEnabled": False}
    refused = requests.post(server.url + "/v1/clusters", json=body, cookies=cookies, timeout=10)
    assert refused.status_code == 403 and "CSRF" in refused.json()["error"]["message"]
    reads = requests.get(server.url + "/v1/clusters", cookies=cookies, timeout=10)
    assert reads.status_code == 200 and reads.json()["clusters"] == []
    wrong = requests.post(server.url + "/console/session", json={"accessKeyId": key_id, "secretAccessKey": "x" * 40}, timeout=10)
    assert wrong.status_code == 401 and "Set-Cookie" not in wrong.headers and "WWW-Authenticate" not in wrong.headers


def test_without_authentication_the_console_opens_without_sign_in(make_server, browser):
    server = make_server(auth="none").start()
    assert server.create_cluster("open", wait=True).status_code == 201
    browser.get(server.url + "/console/")
    wait_until(browser, lambda: browser.find_elements(By.CSS_SELECTOR, "[data-cluster='open']"), "the cluster never appeared")
    assert not browser.find_element(By.ID, "sign-in").is_displayed()
    assert "--auth none" in browser.find_element(By.ID, "who").text


def test_a_change_a_browser_sends_from_another_site_is_refused(make_server):
    """A page elsewhere can make a browser post to a local serve; with --auth none nothing else
    would stop it: the browser's Origin and Sec-Fetch-Site headers do."""
    server = make_server(auth="none").start()
    body = {"name": "csrf", "nodeType": "db.t4g.small", "aclName": "open-access", "tlsEnabled": False}
    for headers in ({"Origin": "http://evil.example"}, {"Sec-Fetch-Site": "cross-site"}):
        refused = requests.post(server.url + "/v1/clusters", json=body, headers=headers, timeout=10)
        assert refused.status_code == 403, refused.text
    same = requests.post(server.url + "/v1/clusters", json=body, timeout=10,
                         headers={"Origin": server.url, "Sec-Fetch-Site": "same-origin"})
    assert same.status_code == 202, same.text
    assert [cluster["name"] for cluster in requests.get(server.url + "/v1/clusters", timeout=10).json()["clusters"]] == ["csrf"]


def test_the_console_works_in_firefox_too(make_server, tmp_path):
    """Debian's firefox-esr, headless, driven over its own Marionette protocol (Debian has no
    geckodriver): the topology drawn, charts present, a FailoverShard's swap shown."""
    import subprocess

    from marionette_driver.marionette import Marionette

    from memoryplane import free_port

    firefox = shutil.which("firefox-esr")
    assert firefox, "firefox-esr is missing: run scripts/install-deps.sh --test"
    server = make_server(auth="none").start()
    assert server.create_cluster("fox", shards=1, replicas=1, wait=True).status_code == 201
    port = free_port()
    profile = tmp_path / "profile"
    profile.mkdir()
    (profile / "user.js").write_text(f'user_pref("marionette.port", {port});\n')
    process = subprocess.Popen([firefox, "--headless", "--marionette", "--no-remote", "-profile", str(profile)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, "HOME": str(tmp_path)})
    try:
        client = Marionette(host="127.0.0.1", port=port, startup_timeout=60)
        client.start_session()
        client.navigate(server.url + "/console/#/cluster/fox")

        def roles():
            return dict(client.execute_script(
                "return Array.from(document.querySelectorAll('[data-node]')).map(e => [e.dataset.node, e.dataset.role])"))

        deadline = time.time() + WAIT
        while time.time() < deadline and not (roles() and client.execute_script("return document.querySelectorAll('[data-chart]').length")):
            time.sleep(0.2)
        assert roles() == {"fox-0001-001": "primary", "fox-0001-002": "replica"}
        client.execute_script("document.querySelector('[data-failover=\"0001\"]').click()")
        deadline = time.time() + WAIT
        while time.time() < deadline and roles().get("fox-0001-002") != "primary":
            time.sleep(0.2)
        assert roles() == {"fox-0001-001": "replica", "fox-0001-002": "primary"}
        client.delete_session()
    finally:
        process.kill()
        process.wait()
