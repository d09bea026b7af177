"""The simulation against closed forms on toy pipelines, its seed and its chunking."""

import numpy as np

from forecasting.simulation import TeamPipeline, simulate, simulate_team

SIMULATIONS = 20_000


def toy_team(probabilities, amounts, close_cdf=None, new_deal_mean=None, new_amount_pool=()):
    """One rep, deals that close in the first month unless ``close_cdf`` says otherwise, amounts
    kept as they are (a ratio pool of 1.0)."""
    deals = len(probabilities)
    return TeamPipeline(
        team_key="toy",
        reps=np.array(["rep"], dtype=object),
        deal_rep=np.zeros(deals, dtype=np.int64),
        win_probability=np.asarray(probabilities, dtype=float),
        close_cdf=np.ones((deals, 2)) if close_cdf is None else np.asarray(close_cdf, dtype=float),
        amount=np.asarray(amounts, dtype=float),
        ratio_offset=np.zeros(deals, dtype=np.int64),
        ratio_size=np.ones(deals, dtype=np.int64),
        ratio_pool=np.array([1.0]),
        new_deal_mean=np.zeros((1, 2)) if new_deal_mean is None else np.asarray(new_deal_mean, dtype=float),
        new_amount_pool=np.asarray(new_amount_pool, dtype=float),
    )


def bookings(team, simulations=SIMULATIONS, seed=7, chunk=None):
    return np.concatenate([c.bookings for c in simulate_team(team, 0, simulations, seed, chunk)])


def test_independent_bernoulli_deals_match_the_closed_form_mean_and_variance():
    rng = np.random.default_rng(1)
    p, a = rng.uniform(0.05, 0.95, 40), rng.uniform(1_000, 50_000, 40)
    total = bookings(toy_team(p, a))[:, 0, 0]
    mean, variance = (p * a).sum(), (p * (1 - p) * a**2).sum()
    # the sample mean within 4 standard errors; the sample variance within 4 of its standard errors
    assert abs(total.mean() - mean) < 4 * np.sqrt(variance / SIMULATIONS)
    fourth = ((total - total.mean()) ** 4).mean()
    assert abs(total.var(ddof=1) - variance) < 4 * np.sqrt((fourth - variance**2) / SIMULATIONS)
    assert np.all(bookings(toy_team(p, a))[:, 0, 1] == 0)  # every won deal closes in the first month


def test_close_month_and_new_deals_follow_their_probabilities():
    team = toy_team(
        [0.5],
        [1_000.0],
        close_cdf=[[0.25, 0.75]],  # a quarter in month 0, half in month 1, a quarter after the horizon
        new_deal_mean=[[2.0, 0.0]],
        new_amount_pool=[100.0, 300.0],
    )
    result = bookings(team)
    # month 0: 0.5 x 0.25 x 1,000 from the open deal, 2 new deals of 200 on average
    assert abs(result[:, 0, 0].mean() - (125.0 + 400.0)) < 4 * result[:, 0, 0].std() / np.sqrt(SIMULATIONS)
    assert abs(result[:, 0, 1].mean() - 250.0) < 4 * result[:, 0, 1].std() / np.sqrt(SIMULATIONS)


def test_the_same_seed_gives_the_same_simulations_and_another_seed_others():
    team = toy_team([0.3, 0.6, 0.9], [10.0, 20.0, 30.0], new_deal_mean=[[0.5, 0.5]], new_amount_pool=[5.0])
    assert np.array_equal(bookings(team, 500, seed=3), bookings(team, 500, seed=3))
    assert not np.array_equal(bookings(team, 500, seed=3), bookings(team, 500, seed=4))


def test_chunking_changes_nothing():
    team = toy_team(
        [0.3, 0.6, 0.9, 0.1],
        [10.0, 20.0, 30.0, 40.0],
        close_cdf=[[0.5, 1.0], [0.2, 0.4], [1.0, 1.0], [0.0, 0.5]],
        new_deal_mean=[[0.7, 1.5]],
        new_amount_pool=[5.0, 7.0, 11.0],
    )
    whole = bookings(team, 1_000, chunk=1_000)
    assert np.array_equal(bookings(team, 1_000, chunk=7), whole)
    assert np.array_equal(bookings(team, 1_000, chunk=None), whole)


def test_teams_are_simulated_one_after_another_with_their_own_streams():
    teams = [toy_team([0.5], [1.0]), toy_team([0.5], [1.0])]
    chunks = list(simulate(teams, 100, seed=1, chunk_simulations=40))
    assert [(c.team_key, c.first_simulation, len(c.bookings)) for c in chunks] == [
        ("toy", 0, 40),
        ("toy", 40, 40),
        ("toy", 80, 20),
    ] * 2
    first = np.concatenate([c.bookings for c in chunks[:3]])
    second = np.concatenate([c.bookings for c in chunks[3:]])
    assert not np.array_equal(first, second)
