// Package bench loads the RewardBench and RM-Bench data sets and rolls
// per-response scores up into their official numbers. Scoring itself stays
// outside: callers pass one score per response, from any judge.
//
// # RewardBench
//
// The official tool (allenai/reward-bench, rewardbench/constants.py and
// rewardbench/utils.py) counts a pair as correct when score(chosen) >
// score(rejected), so a tie counts 0. Per-subset accuracy is correct/total
// over the rows present. A section (Chat, Chat Hard, Safety, Reasoning) is
// the mean of its subsets' accuracies weighted by the constant
// EXAMPLE_COUNTS, not by the rows present. In those constants math-prm
// weighs 984 although it has 447 rows, so that it weighs as much as the six
// hep-* code subsets together (6 x 164). The leaderboard's score is the
// unweighted mean of the four sections. ipo follows all of this and adds
// tie counts and a count of pairs with a NaN score (counted 0, as the
// official comparison does). The official calculate_scores_per_section
// gives a section with no subsets present a score of 0. ipo reports such a
// section as missing and gives no overall score, and it reports the mean
// of the sections present separately, marked partial. Subsets outside the
// four sections are scored per subset and listed as unknown. The view of the IPO paper
// (arXiv 2502.16182), which prompts per category, pools the rows present
// into four categories: chat (Chat and Chat Hard), code (hep-*), math
// (math-prm) and safety (Safety).
//
// # RM-Bench
//
// The official tool (THU-KEG/RM-Bench, scripts/utils.py compute_accuracy)
// gives every prompt three chosen and three rejected responses in the
// styles concise, detailed plain text and detailed markdown. For a domain,
// acc[i][j] is the share of prompts with score(chosen[i]) >
// score(rejected[j]). Hard is the mean of the three cells above the
// diagonal (chosen in a plainer style than rejected), normal the mean of
// the diagonal, easy the mean of the three cells below it. A domain's score
// is the mean of hard, normal and easy, and the overall score is the mean
// of the domains chat, code, math and safety. Rows of the combined file
// are split into domains by the prefix of their domain field, so
// safety-refuse and safety-response prompts are pooled into one safety
// matrix. ipo does the same, reports the sub-domains as found in the data
// as well, and gives no overall score unless all four domains are present.
//
// # Summary JSON
//
// WriteJSON writes a RewardBenchReport or an RMBenchReport. Accuracies are
// fractions in [0, 1], and a value that cannot be computed is null.
//
//	RewardBench ("schema": "ipo.rewardbench/v1")
//	  pairs, wins, losses, ties, invalid   counts over every pair
//	  accuracy                             wins/pairs over every pair
//	  score                                mean of the four sections; null unless all are present
//	  partial_score                        mean of the sections present
//	  sections[]     name, score, pairs, subsets_present[], subsets_missing[]
//	  subsets[]      name, section ("" if none), pairs, wins, losses, ties,
//	                 invalid, accuracy, expected_rows, weight
//	  paper_view[]   name (chat, code, math, safety), pairs, wins, losses,
//	                 ties, invalid, accuracy
//	  missing_subsets[], incomplete_subsets[], unknown_subsets[]
//	  skipped[]      where, id, reason
//
//	RM-Bench ("schema": "ipo.rmbench/v1")
//	  prompts
//	  domains[], subdomains[]   name, prompts, accuracy[3][3], ties[3][3],
//	                            invalid[3][3], hard, normal, easy, score
//	  hard, normal, easy, score   means over the four domains; null unless all are present
//	  partial_score               mean score of the domains present
//	  missing_domains[], unknown_domains[]
//	  skipped[]                   where, id, reason
//
// Per-example records are written one JSON object per line by WriteJSONL:
// PairRecord (id, subset, section, score_chosen, score_rejected, outcome)
// and StyledRecord (id, domain, subdomain, scores_chosen[3],
// scores_rejected[3], wins). A NaN score is written as null.
package bench
