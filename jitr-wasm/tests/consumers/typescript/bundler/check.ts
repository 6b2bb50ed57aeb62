// TypeScript for a bundler (Vite, esbuild, webpack): the "types" of the default condition.
import init, { issuedBy, codes, JitrError, type Codes } from "jitr-wasm";

export async function main(url: URL): Promise<boolean> {
  await init(url);
  const all: Codes = codes();
  if (all.refusal.includes("CA_INACTIVE")) return issuedBy("a", "b");
  throw new JitrError("InvalidRequestException", "unreachable");
}
// @ts-expect-error a Codes list holds the core's codes only
const wrong: Codes["refusal"] = ["UNKNOWN_CA"];
export { wrong };
