// The benchmark's conversations. Every contestant gets the very same ones. Each request's system
// message starts with its own number, so no two requests share more than the template's first few
// tokens: ClawBot's prefix cache cannot turn a repeated prompt into a free prefill, which the
// peers (cleared between requests) would not get.
import type { ChatMessage } from '../../runtime/engine/types.ts';

const system = (id: string) => `Request ${id}. You are a helpful assistant who writes at length.`;

const SHORT_QUESTION = 'Write a long story about a lighthouse keeper who finds an old map.';

// A long user message (about 450 tokens) so that time to first token shows prefill speed, not
// just the fixed cost of a request.
const LONG_QUESTION = `Here are my notes from a week of repairing an old bicycle workshop. Read them, then continue the notes for the following week in the same style, day by day, in detail.

Monday: The roof leaked again over the wheel-truing stand, so I moved the stand next to the front window. The light is better there anyway. I found three boxes of spokes that nobody had labelled; I sorted them by length and wrote the lengths on the boxes with a marker. The compressor makes a knocking sound when it starts, which I think is a loose mounting bolt.

Tuesday: Tightened the compressor bolts and the knocking stopped. A customer brought in a folding bike with a bent hinge. I straightened it with the big vice and two blocks of hardwood, then checked it with a straight edge. It folds smoothly now. In the afternoon I cleaned the parts washer and replaced its filter, which was black with old grease.

Wednesday: Spent the morning building a new shelf for tyres out of pallet wood. It holds about forty tyres if they are stacked on their sides. A delivery of brake pads arrived, but half of them were the wrong size for the rim brakes we usually see, so I set them aside to send back. Replaced the broken hook on the back door.

Thursday: Rain all day and the roof leaked in a new place, near the bench grinder. I put a bucket under it and called the landlord, who promised to send someone next week. Trued six wheels for the bike club and replaced a cracked rim on one of them. The club paid in cash and brought biscuits.

Friday: Inventory day. We have too many inner tubes in the common sizes and not enough in the small ones used on children's bikes. Ordered more of the small tubes. Oiled every chain on the rental bikes and adjusted their gears. Swept the whole floor and found a lost set of hex keys under the workbench.

Saturday: Busy morning with six repairs waiting when I opened. Two punctures, one snapped gear cable, a wobbly headset, a squeaking bottom bracket and a child's bike whose pedals had been put on the wrong sides. All done by two o'clock. Closed early to paint the new shelf.`;

export interface SingleStreamPrompt {
  name: 'short' | 'long';
  messages: (id: string) => ChatMessage[];
}

export const singleStreamPrompts: SingleStreamPrompt[] = [
  {
    name: 'short',
    messages: (id) => [
      { role: 'system', content: system(id) },
      { role: 'user', content: SHORT_QUESTION },
    ],
  },
  {
    name: 'long',
    messages: (id) => [
      { role: 'system', content: system(id) },
      { role: 'user', content: LONG_QUESTION },
    ],
  },
];

const PEOPLE = [
  'a lighthouse keeper',
  'a retired pilot',
  'a young baker',
  'a travelling musician',
  'a lost robot',
  'a night-shift nurse',
  'a beekeeper',
  'a map maker',
  'a street painter',
  'a ferry captain',
];
const PLACES = [
  'in a desert town',
  'on a snowy mountain',
  'in a busy harbour',
  'on a quiet island',
  'in an old library',
];

/** The i-th of the concurrent streams' conversations: 50 different stories. */
export function streamMessages(id: string, i: number): ChatMessage[] {
  const person = PEOPLE[i % PEOPLE.length]!;
  const place = PLACES[Math.floor(i / PEOPLE.length) % PLACES.length]!;
  return [
    { role: 'system', content: system(id) },
    { role: 'user', content: `Write a long story about ${person} ${place}.` },
  ];
}
