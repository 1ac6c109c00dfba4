// Drives the causeway rooms simulator with Cisco's official jsxapi client, unmodified.
// Usage: node check.js ws://127.0.0.1:PORT USER PASSWORD
// Expects a simulator started with two displays, 3840x2160 on connector 1 and 1920x1080 on connector 2.
// Exits 0 when every check passes, 1 on the first mismatch (or after 20 s).
'use strict';

const jsxapi = require('jsxapi');

const [url, username, password] = process.argv.slice(2);
if (!url || !username || password === undefined) {
  console.error('usage: node check.js URL USER PASSWORD');
  process.exit(2);
}

let checks = 0;
function fail(message) {
  console.error(`jsxapi check FAILED after ${checks} checks: ${message}`);
  process.exit(1);
}
function expect(what, got, want) {
  const g = JSON.stringify(got);
  const w = JSON.stringify(want);
  if (g !== w) fail(`${what}: got ${g}, want ${w}`);
  checks += 1;
}
const deadline = setTimeout(() => fail('timed out'), 20000);

// Subscribes to `path` and resolves once the device has confirmed the subscription; `next` then resolves
// with the first value the listener sees.
async function subscribe(component, path) {
  let off;
  const next = new Promise((resolve) => {
    off = component.on(path, (v) => {
      off();
      resolve(v);
    });
  });
  await off.registration;
  return { next };
}

async function run(xapi) {
  const connectors = await xapi.status.get('Video Output Connector');
  expect('connector count', connectors.length, 2);
  expect('connector 1 id', Number(connectors[0].id), 1);
  expect('connector 1 width', Number(connectors[0].Resolution.Width), 3840);
  expect('connector 2 connected', connectors[1].Connected, 'True');
  expect('single leaf', await xapi.status.get('Video Output Connector 2 Resolution Height'), 1080);

  await xapi.config.set('Video Output Connector 1 MonitorRole', 'Second');
  expect('MonitorRole after set', await xapi.config.get('Video Output Connector 1 MonitorRole'), 'Second');
  const illegal = await xapi.config.set('Video Output Connector 1 MonitorRole', 'Fourth').then(
    () => 'accepted',
    (err) => err.code,
  );
  expect('illegal MonitorRole is rejected with code 2', illegal, 2);
  const badPath = await xapi.status.get('Video Output Connector 9').then(() => 'found', (err) => err.code);
  expect('unknown path is rejected with code 3', badPath, 3);

  // Status feedback caused by the simulator's control channel (a display unplugged).
  const unplugged = await subscribe(xapi.status, 'Video Output Connector 2 Connected');
  await xapi.execute('Sim/Display', { Connector: 2, Connected: false });
  expect('status feedback', await unplugged.next, 'False');

  // Configuration feedback caused by another xSet.
  const roleFeedback = await subscribe(xapi.config, 'Video Output Connector 1 MonitorRole');
  await xapi.config.set('Video Output Connector 1 MonitorRole', 'PresentationOnly');
  expect('configuration feedback', await roleFeedback.next, 'PresentationOnly');

  // Commands, and the status they change.
  const instance = await subscribe(xapi.status, 'Conference Presentation LocalInstance');
  expect('Presentation Start', await xapi.command('Presentation Start', { PresentationSource: 2 }), { status: 'OK' });
  expect('LocalInstance feedback source', Number((await instance.next).Source), 2);
  const local = await xapi.status.get('Conference Presentation LocalInstance');
  expect('LocalInstance count', local.length, 1);
  expect('Presentation Stop', await xapi.command('Presentation Stop'), { status: 'OK' });

  // A custom panel: saved with an XML body, clicked through the control channel, seen as an event.
  await xapi.command('UserInterface Extensions Panel Save', { PanelId: 'jsx-test' }, '<Extensions><Panel/></Extensions>');
  const clicked = await subscribe(xapi.event, 'UserInterface Extensions Panel Clicked');
  await xapi.execute('Sim/PanelClick', { PanelId: 'jsx-test' });
  expect('panel click event', (await clicked.next).PanelId, 'jsx-test');

  // Bookings pushed as a body, then listed like a device lists them.
  const booking = {
    Id: 'b1',
    Title: 'Zoom review',
    Time: { StartTime: '2030-01-01T10:00:00Z', EndTime: '2030-01-01T11:00:00Z', StartTimeBuffer: 300 },
    MeetingPlatform: 'Zoom',
    DialInfo: { ConnectMode: 'OBTP', Calls: { Call: [{ Number: '85512345678.42@zoomcrc.com', Protocol: 'SIP' }] } },
  };
  await xapi.command('Bookings Put', {}, JSON.stringify({ Booking: [booking] }));
  const list = await xapi.command('Bookings List');
  expect('bookings total', Number(list.ResultInfo.TotalRows), 1);
  expect('booking dial string', list.Booking[0].DialInfo.Calls.Call[0].Number, '85512345678.42@zoomcrc.com');

  const unknown = await xapi.command('Self Destruct').then(() => 'accepted', (err) => err.code);
  expect('unknown command is rejected with -32601', unknown, -32601);
}

const xapi = jsxapi.connect(url, { username, password, loglevel: process.env.JSXAPI_LOGLEVEL || 'warn' });
xapi.on('error', (err) => fail(`connection error: ${err}`));
xapi.on('ready', () => {
  run(xapi).then(
    () => {
      clearTimeout(deadline);
      console.log(`jsxapi check ok: ${checks} checks against ${url}`);
      xapi.close();
      process.exit(0);
    },
    (err) => fail(err && err.stack ? err.stack : JSON.stringify(err)),
  );
});
