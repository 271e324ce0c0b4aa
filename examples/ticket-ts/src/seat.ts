// A seat from the ticket's slug: the same holder and event always get the same seat.
export async function seatFor(slug: string): Promise<string> {
  let h = 0;
  for (const ch of slug) h = (h * 31 + ch.codePointAt(0)!) >>> 0;
  return `${String.fromCharCode(65 + (h % 20))}${((h >>> 5) % 40) + 1}`;
}
