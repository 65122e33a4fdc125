// `npm run build`: bundle every scenario into dist/.
import { bundleScenarios } from './bundle.ts';

const files = await bundleScenarios();
for (const file of files) console.log(`built ${file}`);
