/*  twin quality — defects made at each station (driven by wear, speed and
 *  heat), the in-line measurements a controller can run SPC on, and the
 *  end-of-line sampling inspection that finds some defects and ships the rest.
 */
#include "twin_int.h"

#include <math.h>
#include <string.h>

const char *const twin__defect_names[TWIN_DEFECT_COUNT + 1] = {
    "micro_defect", "misalignment", "torque", "thermal_hotspot", "contamination", NULL
};

/* A unit leaves station S: maybe with a new defect (more likely on a worn,
 * fast or hot station), and with its in-line torque and alignment. */
void
twin__quality_unit (twin_station_t *s, twin_unit_t *u)
{
    double worst = twin__worst_wear (s);
    double hot = s->temp_c > 35.0 ? s->temp_c - 35.0 : 0;
    double fast = s->speed > 1.0 ? s->speed - 1.0 : 0;
    double p = s->defect_base_p * (1.0 + s->defect_wear_gain * worst * worst)
               * (1.0 + s->defect_speed_gain * fast) * (1.0 + s->defect_temp_gain * hot);
    double motor = twin__wear_frac (s, TWIN_C_MOTOR) + twin__wear_frac (s, TWIN_C_BEARING);
    double joint = twin__wear_frac (s, TWIN_C_JOINT) + twin__wear_frac (s, TWIN_C_BELT);
    int defect = -1;
    if (twin_rng_uniform (&s->rng_qual) < p) {
        /* Which defect: weighted by the cause that drove the probability up. */
        double w[TWIN_DEFECT_COUNT] = {
            1.0, 2.0 * joint, 2.0 * motor, 0.2 * hot, 2.0 * twin__wear_frac (s, TWIN_C_LUBE)
        };
        double sum = 0;
        for (int i = 0; i < TWIN_DEFECT_COUNT; i++)
            sum += w[i];
        double x = twin_rng_uniform (&s->rng_qual) * sum;
        for (defect = 0; defect < TWIN_DEFECT_COUNT - 1 && x >= w[defect]; defect++)
            x -= w[defect];
        u->defects |= 1u << defect;
    }
    /* In-line measurements a controller can run SPC on. */
    s->torque_nm = s->torque_nominal_nm
                   * (1.0 + twin_rng_normal (&s->rng_qual, 0, 0.01 + 0.04 * motor)
                      + (defect == 2 ? 0.08 : 0));
    s->alignment_mm = fabs (twin_rng_normal (&s->rng_qual, 0, 0.02 + 0.1 * joint))
                      + (defect == 1 ? 0.3 : 0);
}

/* A finished unit leaves the line: one in sample_every is inspected, and a
 * defect found is reworked (by hand) or scrapped; the rest ship, defective
 * or not.  True when it ships as a good unit (reworked included). */
bool
twin__quality_ship (twin_t *self, const twin_unit_t *u)
{
    twin_quality_t *q = &self->quality;
    bool sampled = q->sample_every > 0 && ++q->sample_count >= q->sample_every;
    if (sampled)
        q->sample_count = 0;
    bool detected = false;
    if (sampled && u->defects)
        for (int d = 0; d < TWIN_DEFECT_COUNT; d++)
            if ((u->defects & (1u << d)) && twin_rng_uniform (&q->qual_rng) < q->detect_p[d])
                detected = true;
    if (!detected) {
        if (u->defects)
            q->escaped++;
        return true;
    }
    q->defects_found++;
    if (twin_rng_uniform (&q->qual_rng) < q->rework_p) {
        q->rework++;
        self->manual++;        /* rework is done by hand at the rework bay */
        return true;
    }
    q->scrap++;
    return false;
}

/* ------------------------------------------------------------ hooks */

static const char *const s_quality_keys[] = { "sample_every", "detect_p", "rework_p", NULL };

int
twin__quality_load (twin_t *self, const af_config_t *root)
{
    twin_quality_t *qu = &self->quality;
    const af_config_t *q = twin__cfg_map (root, "quality", s_quality_keys);
    qu->sample_every = (int) af_config_int (q, "sample_every", 20, 0, 1000000);
    const af_config_t *dp = q ? af_config_get (q, "detect_p") : NULL;
    for (int d = 0; d < TWIN_DEFECT_COUNT; d++)
        qu->detect_p[d] = 0.9;
    if (dp && af_config_kind (dp) == AF_CONFIG_SCALAR) {
        double v = af_config_num (q, "detect_p", 0.9, 0, 1);
        for (int d = 0; d < TWIN_DEFECT_COUNT; d++)
            qu->detect_p[d] = v;
    }
    else if (dp) {
        af_config_known_keys (dp, twin__defect_names);
        for (int d = 0; d < TWIN_DEFECT_COUNT; d++)
            qu->detect_p[d] = af_config_num (dp, twin__defect_names[d], 0.9, 0, 1);
    }
    qu->rework_p = af_config_num (q, "rework_p", 0.7, 0, 1);
    twin_rng_seed (&qu->qual_rng, self->seed, "quality");
    return af_config_error (root) ? -1 : 0;
}

void
twin__quality_reset (twin_t *self)
{
    twin_quality_t *q = &self->quality;
    q->scrap = q->rework = q->escaped = q->defects_found = 0;
}
