// What the page says about each task: a short "what to watch for", the
// label of a block's hidden rule (and a short form for narrow blocks), and
// the task list's label with its parameters (tasks.rs in the core defines
// the tasks).

const RULE_AB = (r) => (r === 0 ? "A" : "B");

/** Task name → { watch: text, rule: (rule index) → label, short?: the same, shorter, label?: the task list's text }. */
export const TASKS = {
  "rule-switch": {
    watch: "Two cues, two actions. Rule A maps cue i to action i, rule B reverses it; the rules alternate every 50 " +
      "trials and nothing tells the agent. Watch the first block being learned, then at each switch the dopamine " +
      "trace dips below zero, the context channels of the basal ganglia pick another control function, and " +
      "accuracy recovers. When a rule comes back, its control function still holds it: recovery is quicker.",
    rule: RULE_AB,
  },
  "cued-rule-switch": {
    watch: "As rule-switch, but two more input lines say which rule is in force. Watch the thalamus recognise the " +
      "cue and change control function at the switch, so a switch costs fewer errors than in rule-switch.",
    rule: RULE_AB,
  },
  "cue-context": {
    watch: "Context 1 shows cues 0 and 1, context 2 cues 2 and 3 (blocks of 100, 100 and 50 trials). The new cues " +
      "are a novel pattern: watch a fresh control function open for context 2, and the first one come back by " +
      "recognition when context 1 returns, with few errors.",
    rule: (r) => `context ${r + 1}`,
    short: (r) => `c${r + 1}`,
    label: "cue-context (blocks of 100, 100, 50)",
  },
  "reversal-bandit": {
    watch: "One constant input, two arms paying off with probability 0.8 and 0.2; the good arm swaps every 40 " +
      "trials. Rewards are noisy, so dopamine flickers even when the choice is right. Watch how many trials the " +
      "agent needs after each reversal to settle on the new good arm.",
    rule: (r) => `arm ${r + 1} good`,
    short: (r) => `arm ${r + 1}`,
    label: "reversal-bandit (p 0.8 / 0.2, 20 blocks of 40)",
  },
  "delayed-reward": {
    watch: "The action is taken on the cue step, then the chosen number of blank steps pass before the reward. " +
      "Eligibility traces carry the credit across the gap: compare the curve with the no_traces lesion on, at " +
      "a delay of 5 or 10.",
    rule: () => "A",
    label: "delayed-reward (delay: blank steps)",
  },
  "serial-reversal": {
    watch: "The two rules of rule-switch alternate in 20 blocks of 40 trials. Watch the errors after each reversal " +
      "shrink over the blocks as each rule settles in its own control function: learning to switch.",
    rule: RULE_AB,
  },
  "new-rule-transfer": {
    watch: "Every 40 trials, four new cue patterns (3 of 8 lines on) and a new mapping of them to the two actions. " +
      "Watch whether later blocks reach the criterion sooner than the first ones: learning to learn.",
    rule: (r) => `set ${r + 1}`,
    short: (r) => `${r + 1}`,
    label: "new-rule-transfer (16 new rules of 40 trials)",
  },
};

TASKS["action-sequence"] = {
  watch: "Three positions, each with its own cue, four actions: the agent must press the right action at each " +
    "position in turn; a wrong one ends the trial with nothing, the third right one earns the reward. Two " +
    "sequences alternate every 60 trials, unsignaled. Watch the whole sequence learned from the reward at its " +
    "end (compare no_traces), and at each switch the control function that held the other sequence come back.",
  rule: RULE_AB,
  label: "action-sequence (3 positions, 4 actions)",
};
TASKS["delayed-response"] = {
  watch: "One of two cues for one step, then the chosen number of blank steps, then a go signal: the action at " +
    "go must match the cue. At go the input alone says nothing, so the cue must be held in cortex through the " +
    "delay, by the thalamus amplifying cortical recurrence. Watch cortical activity outlast the cue, and turn " +
    "on no_amplification: the memory is gone and accuracy falls to chance.",
  rule: () => "cue i → action i",
  short: () => "",
  label: "delayed-response (delay: blank steps)",
};

const MULTI_RULE = {
  watch: "Many rules, many actions: one-hot cues, each rule a mapping of them to the actions, 12 unsignaled blocks " +
    "of 50 trials. The first blocks show every rule once, later blocks bring back a familiar rule at random. Watch " +
    "whether the agent re-enters the control function that held a returning rule, or relearns it (switch cost), " +
    "and compare with no_thalamus.",
  rule: (r) => `rule ${r + 1}`,
  short: (r) => `${r + 1}`,
};
for (const size of ["3x3x3", "4x2x3", "4x2x6"]) {
  const [cues, actions, rules] = size.split("x");
  TASKS[`multi-rule-switch-${size}`] = {
    ...MULTI_RULE, label: `multi-rule-switch (${cues} cues, ${actions} actions, ${rules} rules)`,
  };
}
TASKS["rule-switch"].label = "rule-switch (8 blocks of 50)";
TASKS["cued-rule-switch"].label = "cued-rule-switch (the rule shown)";
TASKS["serial-reversal"].label = "serial-reversal (20 blocks of 40)";

/** The steps one trial of `task` takes at least (its blank steps, its positions). */
export function minStepsPerTrial(task, delay) {
  if (task === "delayed-reward") return delay + 1;
  if (task === "delayed-response") return delay + 2;
  return 1;
}

/** What a lesion removes, for the controls' descriptions (config.rs in the core). */
export const LESIONS = {
  no_thalamus: "All thalamic gains fixed at 1 and one shared context: cortex has one function for every context.",
  no_context_selection: "The basal ganglia never switch the thalamic control function.",
  no_dopamine: "Dopamine is held at 0: no reinforcement learning at all.",
  no_traces: "Eligibility traces last one step: no bridge across delays.",
  no_meta: "In-place learning is off: surprise always holds plasticity for a context switch, and the control functions keep disjoint masks.",
  no_amplification: "The thalamus does not amplify cortical recurrence: cortex forgets a cue as soon as it is gone.",
};
