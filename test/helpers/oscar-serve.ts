// `npm run oscar [-- --port 8000]`: the real-shop test target by hand, for a demo or to try
// discovery against it. Installs it first if needed; Ctrl-C stops it and removes its data.
import { OscarSetupError, startOscar, type OscarShop } from './oscar.ts';

const portFlag = process.argv.indexOf('--port');
const port = portFlag === -1 ? 0 : Number(process.argv[portFlag + 1]);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`--port takes a port number from 0 to 65535, not "${process.argv[portFlag + 1] ?? ''}".`);
  process.exit(2);
}

let shop: OscarShop;
try {
  shop = await startOscar({ port, log: (line) => console.error(line) });
} catch (err) {
  if (!(err instanceof OscarSetupError)) throw err;
  console.error(err.message);
  process.exit(1);
}
console.log(`django-oscar test shop at ${shop.homeUrl}
  category  ${shop.categoryUrl}
  product   ${shop.productUrl}  (${shop.productName})
  basket    ${shop.basketUrl}
  offer     ${shop.offer.name} (automatic)
  voucher   ${shop.voucherCode}: ${shop.voucher.offerName}
  data      ${shop.dataDir} (removed on exit)
Ctrl-C to stop.`);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    void shop.stop().then(() => process.exit(0));
  });
}
